package taskchat

import (
	"context"
	"slices"
	"testing"
)

// The tables of config.go agree with the struct: every checked or aliased
// name is a Config variable, and every default passes its own check.
func TestConfigTables(t *testing.T) {
	defaults := defaultConfig(context.Background())
	for _, c := range checks {
		field(&defaults, c.name) // panics for a name with no field
		if !c.ok(&defaults) {
			t.Errorf("the default of %s fails its check", c.name)
		}
	}
	for name := range aliases {
		field(&defaults, name)
	}
	if !slices.Contains(aliases["LLM_API_KEY"], "OPENROUTER_API_KEY") {
		t.Errorf("LLM_API_KEY aliases = %v, want every provider's key variable", aliases["LLM_API_KEY"])
	}
}

// An invalid value is named under the name it was set as, and replaced by
// its default, except where the default would change what the service is.
func TestConfigInvalidValues(t *testing.T) {
	env := map[string]string{
		"PORT": "99999", "HISTORY_WINDOW": "abc", "LOG_FORMAT": "xml",
		"JWT_SECRET": "short", "DATABASE_URL": "mysql://x",
	}
	cfg, invalid := loadConfig(context.Background(), func(k string) string { return env[k] })
	slices.Sort(invalid)
	if want := []string{"DATABASE_URL", "HISTORY_WINDOW", "JWT_SECRET", "LOG_FORMAT", "PORT"}; !slices.Equal(invalid, want) {
		t.Errorf("invalid = %v, want %v", invalid, want)
	}
	if cfg.Port != 7860 || cfg.HistoryWindow != 20 || cfg.LogFormat != "json" {
		t.Errorf("defaults not restored: port %d, window %d, format %q", cfg.Port, cfg.HistoryWindow, cfg.LogFormat)
	}
	if cfg.AuthSecret != "short" || cfg.DatabaseURL != "mysql://x" {
		t.Errorf("a short secret or a bad database URL was replaced: %q %q", cfg.AuthSecret, cfg.DatabaseURL)
	}
}
