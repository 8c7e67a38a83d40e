package taskchat

import (
	"context"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/sethvargo/go-envconfig"

	"github.com/taskchat/taskchat/internal/store"
)

// Config is every setting taskchat reads, parsed once from the environment.
// Each field's env tag names its variable and its default, the one place
// either is written; aliases lists the other names a variable may be set
// under, and checks what a valid value is.
type Config struct {
	Port int `env:"PORT, default=7860"`

	DatabaseURL       string `env:"DATABASE_URL"`
	DatabaseQueryMode string `env:"DATABASE_QUERY_MODE"`
	DatabaseTransport string `env:"DATABASE_TRANSPORT"`
	DatabaseWSProxy   string `env:"DATABASE_WS_PROXY"`
	DatabaseSchema    string `env:"DATABASE_SCHEMA, default=taskchat"`
	DatabaseAdopt     string `env:"DATABASE_ADOPT, default=auto"`

	LLMAPIKey   string        `env:"LLM_API_KEY"`
	LLMProvider string        `env:"LLM_PROVIDER"`
	LLMBaseURL  string        `env:"LLM_BASE_URL"`
	LLMModel    string        `env:"LLM_MODEL"`
	LLMTimeout  time.Duration `env:"LLM_TIMEOUT, default=30s"`

	AuthSecret    string        `env:"AUTH_SECRET"`
	AuthJWKSURL   string        `env:"AUTH_JWKS_URL"`
	BetterAuthURL string        `env:"BETTER_AUTH_URL"`
	AuthIssuer    string        `env:"AUTH_ISSUER"`
	AuthAudience  string        `env:"AUTH_AUDIENCE"`
	AuthAccounts  string        `env:"AUTH_ACCOUNTS, default=auto"`
	AuthTokenTTL  time.Duration `env:"AUTH_TOKEN_TTL, default=168h"`
	AuthRateLimit int           `env:"AUTH_RATE_LIMIT, default=10"`

	CORSOrigins     origins `env:"CORS_ORIGINS"`
	MaxMessageChars int     `env:"MAX_MESSAGE_CHARS, default=4000"`
	HistoryWindow   int     `env:"HISTORY_WINDOW, default=20"`
	ChatRateLimit   int     `env:"CHAT_RATE_LIMIT, default=30"`
	MaxTasksPerUser int     `env:"MAX_TASKS_PER_USER, default=10000"`
	// ChatAddressRateLimit bounds the turns a minute from one client
	// address while auth is off, when user ids are anyone's to pick.
	ChatAddressRateLimit int `env:"CHAT_ADDRESS_RATE_LIMIT, default=120"`
	// TrustedProxyHops is how many proxies in front of the service append
	// the caller's address to X-Forwarded-For (0: none; the peer is the
	// client).
	TrustedProxyHops int           `env:"TRUSTED_PROXY_HOPS, default=0"`
	ShutdownTimeout  time.Duration `env:"SHUTDOWN_TIMEOUT, default=10s"`
	BodyTimeout      time.Duration `env:"BODY_TIMEOUT, default=10s"`

	LogLevel  zerolog.Level `env:"LOG_LEVEL, default=info"`
	LogFormat string        `env:"LOG_FORMAT, default=json"`

	SpaceID string `env:"SPACE_ID"`

	// llm is the model the LLM agent uses, resolved once from the variables
	// above and the provider table; llm.On is false without one.
	llm LLMSettings
}

// aliases maps a variable to the other names it may be set under, in order
// of preference after its own name. LLM_API_KEY's come from the provider
// table, so a provider's key variable is always enough.
var aliases = map[string][]string{
	"DATABASE_URL": {"NEON_DATABASE_URL"},
	"LLM_API_KEY":  providerKeyVars(),
	"AUTH_SECRET":  {"BETTER_AUTH_SECRET", "JWT_SECRET", "JWT_SECRET_KEY"},
	"CORS_ORIGINS": {"ALLOWED_ORIGINS", "FRONTEND_URL"},
}

// checks says what a valid value of each variable is, beyond what its type
// already requires. A value that fails its check is named in /health and
// replaced by the default, except where the default would change what the
// service is (keepInvalid).
var checks = []struct {
	name string
	ok   func(c *Config) bool
}{
	{"PORT", func(c *Config) bool { return c.Port > 0 && c.Port < 65536 }},
	{"DATABASE_URL", func(c *Config) bool { return c.DatabaseURL == "" || validDatabaseURL(c.DatabaseURL) }},
	{"DATABASE_QUERY_MODE", func(c *Config) bool { return oneOf(c.DatabaseQueryMode, "", "exec", "simple") }},
	{"DATABASE_TRANSPORT", func(c *Config) bool { return oneOf(c.DatabaseTransport, "", "tcp", "websocket") }},
	{"DATABASE_WS_PROXY", func(c *Config) bool { return c.DatabaseWSProxy == "" || validURL(c.DatabaseWSProxy, "ws", "wss") }},
	{"DATABASE_SCHEMA", func(c *Config) bool { return store.ValidSchemaName(c.DatabaseSchema) }},
	{"DATABASE_ADOPT", func(c *Config) bool { return oneOf(c.DatabaseAdopt, "auto", "off") }},
	{"LLM_PROVIDER", func(c *Config) bool { _, ok := providerNamed(c.LLMProvider); return c.LLMProvider == "" || ok }},
	{"LLM_BASE_URL", func(c *Config) bool { return c.LLMBaseURL == "" || validURL(c.LLMBaseURL, "http", "https") }},
	{"LLM_TIMEOUT", func(c *Config) bool { return c.LLMTimeout > 0 && c.LLMTimeout <= 10*time.Minute }},
	{"AUTH_SECRET", func(c *Config) bool { return c.AuthSecret == "" || len(c.AuthSecret) >= 32 }},
	{"AUTH_JWKS_URL", func(c *Config) bool { return c.AuthJWKSURL == "" || validURL(c.AuthJWKSURL, "http", "https") }},
	{"BETTER_AUTH_URL", func(c *Config) bool { return c.BetterAuthURL == "" || validURL(c.BetterAuthURL, "http", "https") }},
	{"AUTH_ACCOUNTS", func(c *Config) bool { return oneOf(c.AuthAccounts, "auto", "off") }},
	{"AUTH_TOKEN_TTL", func(c *Config) bool { return c.AuthTokenTTL >= time.Minute && c.AuthTokenTTL <= 90*24*time.Hour }},
	{"AUTH_RATE_LIMIT", func(c *Config) bool { return c.AuthRateLimit >= 0 }},
	{"MAX_MESSAGE_CHARS", func(c *Config) bool { return c.MaxMessageChars >= 1 && c.MaxMessageChars <= 100_000 }},
	{"HISTORY_WINDOW", func(c *Config) bool { return c.HistoryWindow >= 1 && c.HistoryWindow <= 200 }},
	{"CHAT_RATE_LIMIT", func(c *Config) bool { return c.ChatRateLimit >= 0 }},
	{"MAX_TASKS_PER_USER", func(c *Config) bool { return c.MaxTasksPerUser >= 1 && c.MaxTasksPerUser <= 1_000_000 }},
	{"CHAT_ADDRESS_RATE_LIMIT", func(c *Config) bool { return c.ChatAddressRateLimit >= 0 }},
	{"TRUSTED_PROXY_HOPS", func(c *Config) bool { return c.TrustedProxyHops >= 0 && c.TrustedProxyHops <= 10 }},
	{"SHUTDOWN_TIMEOUT", func(c *Config) bool { return c.ShutdownTimeout > 0 && c.ShutdownTimeout <= 10*time.Minute }},
	{"BODY_TIMEOUT", func(c *Config) bool { return c.BodyTimeout > 0 && c.BodyTimeout <= 10*time.Minute }},
	{"LOG_FORMAT", func(c *Config) bool { return oneOf(c.LogFormat, "json", "console") }},
}

// keepInvalid are the variables whose default would silently change what
// the service is: an unusable DATABASE_URL must not become the memory store,
// a bad DATABASE_SCHEMA must not create the default one, nor a short
// AUTH_SECRET turn auth off. They stay as set, and the API is refused until
// they are fixed.
var keepInvalid = []string{"DATABASE_URL", "DATABASE_SCHEMA", "AUTH_SECRET"}

func oneOf(v string, choices ...string) bool { return slices.Contains(choices, strings.ToLower(v)) }

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

// env reads variables for one loadConfig: a variable or its first set alias,
// with blank values counting as unset so that an empty Space variable means
// "use the default". It remembers which name each was set under and the last
// variable go-envconfig asked for, which is the one a decoding error is about.
type env struct {
	getenv func(string) string
	skip   map[string]bool // set but unparseable: treated as unset
	setAs  map[string]string
	last   string
}

func (e *env) Lookup(key string) (string, bool) {
	e.last = key
	for _, k := range append([]string{key}, aliases[key]...) {
		if e.skip[k] {
			continue
		}
		if v := strings.TrimSpace(e.getenv(k)); v != "" {
			e.setAs[key] = k
			return v, true
		}
	}
	return "", false
}

// name is the name key was set under: itself or an alias.
func (e *env) name(key string) string {
	if n, ok := e.setAs[key]; ok {
		return n
	}
	return key
}

// loadConfig parses the environment. It never fails: a variable that cannot
// be parsed or fails its check falls back to its default and is named in
// invalid, so the service can stay up and report itself misconfigured.
func loadConfig(ctx context.Context, getenv func(string) string) (cfg Config, invalid []string) {
	e := &env{getenv: getenv, skip: map[string]bool{}}
	for range reflect.TypeFor[Config]().NumField() + 1 {
		cfg, e.setAs, e.last = Config{}, map[string]string{}, ""
		err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: e})
		if err == nil {
			break
		}
		name := e.name(e.last)
		if e.last == "" || e.skip[name] || strings.TrimSpace(getenv(name)) == "" {
			// Not a value problem: a bug in the struct tags. Report it
			// rather than crash.
			invalid = append(invalid, "configuration: "+err.Error())
			break
		}
		invalid = append(invalid, name)
		e.skip[name] = true
	}
	defaults := defaultConfig(ctx)
	for _, c := range checks {
		if c.ok(&cfg) {
			continue
		}
		invalid = append(invalid, e.name(c.name))
		if !slices.Contains(keepInvalid, c.name) {
			field(&cfg, c.name).Set(field(&defaults, c.name))
		}
	}
	cfg.llm = resolveLLM(cfg, e)
	return cfg, invalid
}

// defaultConfig is the configuration of an empty environment.
func defaultConfig(ctx context.Context) Config {
	var c Config
	_ = envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: envconfig.MapLookuper(nil)})
	return c
}

// field is the Config field whose env tag names variable.
func field(c *Config, variable string) reflect.Value {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("env"), ",")
		if name == variable {
			return v.Field(i)
		}
	}
	panic("no Config field for " + variable)
}

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

// accountsOn reports whether the sign-up and sign-in routes serve: they
// issue tokens with the shared secret, so they need one, and AUTH_ACCOUNTS
// can turn them off. With only a JWKS, Better Auth signs people in.
func (c Config) accountsOn() bool {
	return c.AuthSecret != "" && !strings.EqualFold(c.AuthAccounts, "off")
}

// maxBodyBytes is the request body limit: 64 KiB, or more when
// MAX_MESSAGE_CHARS is raised so far that a message could not fit.
// limits are what one user may store.
func (c Config) limits() store.Limits { return store.Limits{MaxTasks: c.MaxTasksPerUser} }

func (c Config) maxBodyBytes() int64 {
	return max(64<<10, int64(c.MaxMessageChars)*12+1024)
}

// provider is an LLM_PROVIDER preset.
type provider struct {
	name, baseURL, model, keyVar string
}

// providers is the one table of LLM presets; the first is the default.
// The default models were checked against each provider's published model
// and deprecation lists on 2026-12-01 (see the README's table).
var providers = []provider{
	{"openai", "https://api.openai.com/v1", "gpt-6-luna", "OPENAI_API_KEY"},
	{"huggingface", "https://router.huggingface.co/v1", "openai/gpt-oss-120b", "HF_TOKEN"},
	{"gemini", "https://generativelanguage.googleapis.com/v1beta/openai/", "gemini-3.5-flash-lite", "GEMINI_API_KEY"},
	{"groq", "https://api.groq.com/openai/v1", "openai/gpt-oss-120b", "GROQ_API_KEY"},
	{"openrouter", "https://openrouter.ai/api/v1", "openai/gpt-6-luna", "OPENROUTER_API_KEY"},
	{"ollama", "http://localhost:11434/v1", "llama3.2", ""},
}

func providerNamed(name string) (provider, bool) {
	for _, p := range providers {
		if strings.EqualFold(p.name, name) {
			return p, true
		}
	}
	return provider{}, false
}

func providerKeyVars() []string {
	var vars []string
	for _, p := range providers {
		if p.keyVar != "" {
			vars = append(vars, p.keyVar)
		}
	}
	return vars
}

// LLMSettings is the model the LLM agent talks to.
type LLMSettings struct {
	On                               bool
	Provider, BaseURL, Model, APIKey string
	Timeout                          time.Duration
}

// resolveLLM picks the model, if any. The provider is LLM_PROVIDER, or else
// the one whose key variable is set (GROQ_API_KEY alone means Groq); the key
// is LLM_API_KEY or the provider's own variable. The LLM agent is on when a
// key is found, for Ollama (which needs none), and when LLM_BASE_URL points
// at some other OpenAI-compatible server.
func resolveLLM(c Config, e *env) LLMSettings {
	s := LLMSettings{APIKey: c.LLMAPIKey, Timeout: c.LLMTimeout}
	p, explicit := providerNamed(c.LLMProvider)
	if !explicit {
		p = providers[0]
		if k, ok := providerNamed(providerOfKey(e.name("LLM_API_KEY"))); ok {
			p = k
		}
	} else if strings.TrimSpace(e.getenv("LLM_API_KEY")) == "" && p.keyVar != "" {
		// With the provider named, its own variable is its key even when
		// another provider's is set too.
		s.APIKey = strings.TrimSpace(e.getenv(p.keyVar))
	}
	s.Provider, s.BaseURL, s.Model = p.name, p.baseURL, p.model
	if c.LLMBaseURL != "" {
		s.BaseURL = c.LLMBaseURL
	}
	if c.LLMModel != "" {
		s.Model = c.LLMModel
	}
	s.On = s.APIKey != "" || p.name == "ollama" || c.LLMBaseURL != ""
	return s
}

// providerOfKey names the provider whose key variable is keyVar, or "".
func providerOfKey(keyVar string) string {
	for _, p := range providers {
		if p.keyVar != "" && p.keyVar == keyVar {
			return p.name
		}
	}
	return ""
}
