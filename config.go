package taskchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/sethvargo/go-envconfig"
)

// Config is every setting taskchat reads, parsed once from the environment.
// Each field's env tag names its variable; aliases lists the other names
// existing deployments use for it.
type Config struct {
	Port int `env:"PORT, default=7860"`

	DatabaseURL       string `env:"DATABASE_URL"`
	DatabaseQueryMode string `env:"DATABASE_QUERY_MODE"`
	DatabaseTransport string `env:"DATABASE_TRANSPORT"`
	DatabaseWSProxy   string `env:"DATABASE_WS_PROXY"`

	LLMAPIKey   string        `env:"LLM_API_KEY"`
	LLMProvider string        `env:"LLM_PROVIDER"`
	LLMBaseURL  string        `env:"LLM_BASE_URL"`
	LLMModel    string        `env:"LLM_MODEL"`
	LLMTimeout  time.Duration `env:"LLM_TIMEOUT, default=30s"`

	AuthSecret    string `env:"AUTH_SECRET"`
	AuthJWKSURL   string `env:"AUTH_JWKS_URL"`
	BetterAuthURL string `env:"BETTER_AUTH_URL"`

	CORSOrigins     origins       `env:"CORS_ORIGINS"`
	MaxMessageChars int           `env:"MAX_MESSAGE_CHARS, default=4000"`
	HistoryWindow   int           `env:"HISTORY_WINDOW, default=20"`
	ChatRateLimit   int           `env:"CHAT_RATE_LIMIT, default=30"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT, default=10s"`

	LogLevel  zerolog.Level `env:"LOG_LEVEL, default=info"`
	LogFormat string        `env:"LOG_FORMAT, default=json"`

	SpaceID string `env:"SPACE_ID"`
}

// aliases maps a variable to the other names it may be set under, in order of
// preference after its own name.
var aliases = map[string][]string{
	"DATABASE_URL": {"NEON_DATABASE_URL"},
	"LLM_API_KEY":  {"OPENAI_API_KEY", "HF_TOKEN", "GEMINI_API_KEY", "GROQ_API_KEY"},
	"AUTH_SECRET":  {"BETTER_AUTH_SECRET", "JWT_SECRET", "JWT_SECRET_KEY"},
	"CORS_ORIGINS": {"ALLOWED_ORIGINS", "FRONTEND_URL"},
}

// lookuper reads a variable or its first set alias; blank values count as
// unset so an empty Space variable means "use the default". Names in skip are
// treated as unset too (used to find every invalid variable, not just the first).
func lookuper(getenv func(string) string, skip map[string]bool) envconfig.LookuperFunc {
	return func(key string) (string, bool) {
		for _, k := range append([]string{key}, aliases[key]...) {
			if skip[k] {
				continue
			}
			if v := strings.TrimSpace(getenv(k)); v != "" {
				return v, true
			}
		}
		return "", false
	}
}

// setName reports which name a variable was actually set under (itself or an alias).
func setName(getenv func(string) string, key string) string {
	for _, k := range append([]string{key}, aliases[key]...) {
		if strings.TrimSpace(getenv(k)) != "" {
			return k
		}
	}
	return key
}

// loadConfig parses the environment. It never fails: a variable that cannot
// be parsed or is out of range falls back to its default and is named in
// invalid, so the service can stay up and report itself misconfigured.
func loadConfig(ctx context.Context, getenv func(string) string) (cfg Config, invalid []string) {
	skip := map[string]bool{}
	for range reflect.TypeFor[Config]().NumField() + 1 {
		cfg = Config{}
		err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: lookuper(getenv, skip)})
		if err == nil {
			break
		}
		key := fieldKey(err)
		if key == "" {
			// Not a value problem: a bug in the struct tags. Report it
			// rather than crash.
			invalid = append(invalid, "configuration: "+err.Error())
			break
		}
		name := setName(getenv, key)
		invalid = append(invalid, name)
		skip[name] = true
	}
	invalid = append(invalid, cfg.validate(getenv)...)
	return cfg, invalid
}

// fieldKey maps go-envconfig's "FieldName: …" error to the field's variable.
func fieldKey(err error) string {
	field, _, ok := strings.Cut(err.Error(), ":")
	if !ok {
		return ""
	}
	f, ok := reflect.TypeFor[Config]().FieldByName(field)
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return key
}

// validate checks ranges and choices; a bad value is named and reset to its default.
func (c *Config) validate(getenv func(string) string) []string {
	var bad []string
	check := func(ok bool, key string, reset func()) {
		if !ok {
			bad = append(bad, setName(getenv, key))
			reset()
		}
	}
	check(c.Port > 0 && c.Port < 65536, "PORT", func() { c.Port = 7860 })
	check(slices.Contains([]string{"", "exec", "simple"}, strings.ToLower(c.DatabaseQueryMode)), "DATABASE_QUERY_MODE", func() { c.DatabaseQueryMode = "" })
	check(slices.Contains([]string{"", "tcp", "websocket"}, strings.ToLower(c.DatabaseTransport)), "DATABASE_TRANSPORT", func() { c.DatabaseTransport = "" })
	check(c.DatabaseURL == "" || validDatabaseURL(c.DatabaseURL), "DATABASE_URL", func() {})
	check(c.DatabaseWSProxy == "" || validURL(c.DatabaseWSProxy, "ws", "wss"), "DATABASE_WS_PROXY", func() { c.DatabaseWSProxy = "" })
	check(slices.Contains([]string{"", "openai", "huggingface", "gemini", "groq", "openrouter", "ollama"}, strings.ToLower(c.LLMProvider)), "LLM_PROVIDER", func() { c.LLMProvider = "" })
	check(c.LLMBaseURL == "" || validURL(c.LLMBaseURL, "http", "https"), "LLM_BASE_URL", func() { c.LLMBaseURL = "" })
	check(c.LLMTimeout > 0 && c.LLMTimeout <= 10*time.Minute, "LLM_TIMEOUT", func() { c.LLMTimeout = 30 * time.Second })
	check(c.AuthJWKSURL == "" || validURL(c.AuthJWKSURL, "http", "https"), "AUTH_JWKS_URL", func() { c.AuthJWKSURL = "" })
	check(c.BetterAuthURL == "" || validURL(c.BetterAuthURL, "http", "https"), "BETTER_AUTH_URL", func() { c.BetterAuthURL = "" })
	check(c.MaxMessageChars >= 1 && c.MaxMessageChars <= 100_000, "MAX_MESSAGE_CHARS", func() { c.MaxMessageChars = 4000 })
	check(c.HistoryWindow >= 1 && c.HistoryWindow <= 200, "HISTORY_WINDOW", func() { c.HistoryWindow = 20 })
	check(c.ChatRateLimit >= 0, "CHAT_RATE_LIMIT", func() { c.ChatRateLimit = 30 })
	check(c.ShutdownTimeout > 0 && c.ShutdownTimeout <= 10*time.Minute, "SHUTDOWN_TIMEOUT", func() { c.ShutdownTimeout = 10 * time.Second })
	check(c.LogFormat == "json" || c.LogFormat == "console", "LOG_FORMAT", func() { c.LogFormat = "json" })
	check(c.AuthSecret == "" || len(c.AuthSecret) >= 32, "AUTH_SECRET", func() {})
	return bad
}

func validURL(s string, schemes ...string) bool {
	u, err := url.Parse(s)
	return err == nil && slices.Contains(schemes, u.Scheme) && u.Host != ""
}

func validDatabaseURL(s string) bool {
	if u, err := url.Parse(s); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return true
	}
	// libpq keyword/value form: "host=… dbname=…".
	return strings.Contains(s, "=") && !strings.Contains(s, "://")
}

// origins is the CORS allow-list: exact origins, subdomain wildcards such as
// "https://*.vercel.app", or "*" for any origin without credentials. It
// accepts a comma-separated list or a JSON array.
type origins []string

// EnvDecode implements envconfig.Decoder.
func (o *origins) EnvDecode(v string) error {
	var list []string
	if strings.HasPrefix(strings.TrimSpace(v), "[") {
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return fmt.Errorf("not a JSON array of strings: %w", err)
		}
	} else {
		list = strings.Split(v, ",")
	}
	*o = nil
	for _, s := range list {
		s = strings.TrimRight(strings.TrimSpace(s), "/")
		if s == "" {
			continue
		}
		if s != "*" {
			u, err := url.Parse(strings.Replace(s, "*.", "wildcard.", 1))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" || u.RawQuery != "") {
				return errors.New("each origin must look like https://app.example.com or https://*.example.com")
			}
		}
		*o = append(*o, s)
	}
	return nil
}

// allows reports whether a browser origin may call the API.
func (o origins) allows(origin string) bool {
	for _, pat := range o {
		if pat == "*" || strings.EqualFold(pat, origin) {
			return true
		}
		scheme, host, ok := strings.Cut(pat, "://*.")
		if !ok {
			continue
		}
		prefix := scheme + "://"
		rest, ok := strings.CutPrefix(strings.ToLower(origin), strings.ToLower(prefix))
		if ok && strings.HasSuffix(rest, "."+strings.ToLower(host)) && len(rest) > len(host)+1 && !strings.ContainsAny(rest, "/?#@") {
			return true
		}
	}
	return false
}

// anyOrigin reports whether the list is the "*" wildcard.
func (o origins) anyOrigin() bool { return slices.Contains(o, "*") }

// jwksURL is AUTH_JWKS_URL, or Better Auth's endpoint under BETTER_AUTH_URL.
func (c Config) jwksURL() string {
	if c.AuthJWKSURL != "" {
		return c.AuthJWKSURL
	}
	if c.BetterAuthURL != "" {
		return strings.TrimRight(c.BetterAuthURL, "/") + "/api/auth/jwks"
	}
	return ""
}

// provider is an LLM_PROVIDER preset.
type provider struct {
	baseURL, model, keyVar string
}

var providers = map[string]provider{
	"openai":      {"https://api.openai.com/v1", "gpt-4o-mini", "OPENAI_API_KEY"},
	"huggingface": {"https://router.huggingface.co/v1", "openai/gpt-oss-120b", "HF_TOKEN"},
	"gemini":      {"https://generativelanguage.googleapis.com/v1beta/openai/", "gemini-2.5-flash", "GEMINI_API_KEY"},
	"groq":        {"https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", "GROQ_API_KEY"},
	"openrouter":  {"https://openrouter.ai/api/v1", "openai/gpt-4o-mini", "OPENROUTER_API_KEY"},
	"ollama":      {"http://localhost:11434/v1", "llama3.2", ""},
}

// llmSettings resolves which model to use, if any. The provider is
// LLM_PROVIDER, or else the one whose key variable is set (GROQ_API_KEY alone
// means Groq); the key is LLM_API_KEY or the provider's own variable.
// The LLM agent is on when a key is found, for Ollama (which needs none), and
// when LLM_BASE_URL points at some other OpenAI-compatible server.
func (c Config) llmSettings(getenv func(string) string) (base, model, key, name string, ok bool) {
	name = strings.ToLower(c.LLMProvider)
	key = c.LLMAPIKey
	if name == "" {
		name = "openai"
		for n, p := range providers {
			if p.keyVar != "" && p.keyVar == setName(getenv, "LLM_API_KEY") {
				name = n
			}
		}
	} else if v := strings.TrimSpace(getenv("LLM_API_KEY")); v != "" {
		key = v
	} else if v := providers[name].keyVar; v != "" {
		key = strings.TrimSpace(getenv(v))
	}
	p := providers[name]
	base, model = p.baseURL, p.model
	if c.LLMBaseURL != "" {
		base = c.LLMBaseURL
	}
	if c.LLMModel != "" {
		model = c.LLMModel
	}
	ok = key != "" || name == "ollama" || c.LLMBaseURL != ""
	return base, model, key, name, ok
}
