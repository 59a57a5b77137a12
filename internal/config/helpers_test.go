package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes a config file into a fresh temporary directory.
func writeConfig(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wbo-deploy.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadYAML loads body as the config file with an empty environment.
func loadYAML(t testing.TB, body string) (*Config, error) {
	t.Helper()
	return Load(LoadOptions{ConfigFile: writeConfig(t, body), Env: []string{}})
}

// mustLoadYAML fails the test when body does not load.
func mustLoadYAML(t testing.TB, body string) *Config {
	t.Helper()
	cfg, err := loadYAML(t, body)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// asValidation asserts err is a *ValidationError with exit code 2.
func asValidation(t testing.TB, err error) *ValidationError {
	t.Helper()
	if err == nil {
		t.Fatal("expected a *ValidationError, got nil")
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("expected a *ValidationError, got %T: %v", err, err)
	}
	if ve.ExitCode() != 2 {
		t.Fatalf("ExitCode() = %d, want 2", ve.ExitCode())
	}
	if len(ve.Problems) == 0 {
		t.Fatal("ValidationError without problems")
	}
	return ve
}

// problemFor returns the problem naming field, failing the test if none does.
func problemFor(t testing.TB, err error, field string) FieldError {
	t.Helper()
	ve := asValidation(t, err)
	for _, p := range ve.Problems {
		if p.Field == field {
			return p
		}
	}
	t.Fatalf("no problem for field %q; got:\n%v", field, err)
	return FieldError{}
}

// wantMessage asserts the problem for field mentions every fragment.
func wantMessage(t testing.TB, err error, field string, fragments ...string) {
	t.Helper()
	p := problemFor(t, err, field)
	for _, f := range fragments {
		if !strings.Contains(p.Message, f) {
			t.Errorf("%s: message %q does not mention %q", field, p.Message, f)
		}
	}
}
