package security

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkSecrets asserts that the state file is private to its owner and
// that the fake credentials of the run appear in nothing wbo-deploy wrote
// or printed: every file under the working directory (state, lock, backups)
// and the stdout and stderr of `up -v`, `up -o json` and `status -o json`.
func checkSecrets(t *testing.T, d *deployment) {
	t.Run("state-file-mode", func(t *testing.T) {
		st, err := os.Stat(d.state)
		mustNoErr(t, "stat state file", err)
		if m := st.Mode().Perm(); m != 0o600 {
			t.Fatalf("state file %s has mode %o, want 600", d.state, m)
		}
		dir, err := os.Stat(filepath.Dir(d.state))
		mustNoErr(t, "stat state directory", err)
		if m := dir.Mode().Perm(); m&0o077 != 0 {
			t.Fatalf("state directory %s has mode %o: readable by others", filepath.Dir(d.state), m)
		}
	})

	t.Run("no-credentials-written", func(t *testing.T) {
		needles := []string{fakeSecretKey, fakeAccessKeyID}
		files := 0
		err := filepath.WalkDir(d.dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || filepath.Base(path) == "wbo-deploy.yaml" {
				return err
			}
			files++
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, n := range needles {
				if strings.Contains(string(data), n) {
					t.Errorf("%s contains the credential %q", path, n)
				}
			}
			return nil
		})
		mustNoErr(t, "walk "+d.dir, err)
		if files == 0 {
			t.Fatal("wbo-deploy wrote no file: the state file is missing")
		}
		for name, text := range d.outputs {
			for _, n := range needles {
				if strings.Contains(text, n) {
					t.Errorf("%s contains the credential %q", name, n)
				}
			}
		}
	})

	t.Run("outputs-are-what-they-claim", func(t *testing.T) {
		// The search above means something only if the outputs are the
		// real ones: -v printed a log, and the JSON documents parse.
		if len(d.outputs["up -v stderr"])+len(d.outputs["up -v stdout"]) < 200 {
			t.Fatalf("up -v printed almost nothing: %q", d.outputs["up -v stderr"])
		}
		for _, name := range []string{"up -o json stdout", "status -o json stdout"} {
			var doc map[string]any
			if err := json.Unmarshal([]byte(d.outputs[name]), &doc); err != nil || doc["schema"] == nil {
				t.Fatalf("%s is not a wbo-deploy JSON document (%v): %.200s", name, err, d.outputs[name])
			}
		}
		data, err := os.ReadFile(d.state)
		mustNoErr(t, "read state", err)
		if !strings.Contains(string(data), "bucket-boards") {
			t.Fatal("the state file does not record the stack's resources")
		}
	})
}
