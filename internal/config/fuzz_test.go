package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as the config file, then validates
// what loads. Nothing may panic, and every error must be a *ValidationError
// whose problems each name a field. The committed seed corpus
// (testdata/fuzz/FuzzLoad) covers anchors and alias bombs, type confusion,
// huge numbers, unicode, long strings and YAML syntax errors; plain
// `go test` runs it, `go test -fuzz FuzzLoad` explores further.
func FuzzLoad(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	f.Add([]byte("app: {shards: \"two\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "wbo-deploy.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(LoadOptions{ConfigFile: path, Env: []string{}})
		checkFuzzError(t, "Load", err)
		if err != nil {
			if cfg != nil {
				t.Fatal("Load returned both a config and an error")
			}
			return
		}
		checkFuzzError(t, "Validate", cfg.Validate())
		// Name derivation must cope with whatever loaded.
		_ = cfg.Names()
		_ = cfg.BoardBucket(ExampleAccountID, LongestRegion)
		checkFuzzError(t, "CheckNames", cfg.CheckNames(ExampleAccountID, "us-east-1"))
	})
}

func checkFuzzError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%s returned %T, not *ValidationError: %v", what, err, err)
	}
	if ve.ExitCode() != 2 || len(ve.Problems) == 0 {
		t.Fatalf("%s: exit code %d with %d problems", what, ve.ExitCode(), len(ve.Problems))
	}
	for _, p := range ve.Problems {
		if p.Field == "" || p.Message == "" {
			t.Fatalf("%s: problem without a field or message: %+v", what, p)
		}
	}
}
