package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPutGetAllOrdering(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{ToolVersion: "1.2.3"})
	if s.Exists() {
		t.Fatal("Exists() before any write")
	}
	for _, n := range []string{"vpc", "subnet-public-1", "igw", "subnet-public-0", "sg-alb"} {
		mustPut(t, s, res(n, "ec2.x", "id-"+n))
	}
	want := []string{"igw", "sg-alb", "subnet-public-0", "subnet-public-1", "vpc"}
	var got []string
	for _, r := range s.All() {
		got = append(got, r.Name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("All() order = %v, want %v", got, want)
	}
	var disk []string
	for _, r := range readDisk(t, path).Resources {
		disk = append(disk, r.Name)
	}
	if !reflect.DeepEqual(disk, want) {
		t.Fatalf("file order = %v, want %v", disk, want)
	}
	r, ok := s.Get("vpc")
	if !ok || r.ID != "id-vpc" || r.Kind != "ec2.x" {
		t.Fatalf("Get(vpc) = %+v, %v", r, ok)
	}
	if _, ok := s.Get("nope"); ok {
		t.Fatal("Get(nope) found something")
	}

	// Replace keeps one entry per name.
	mustPut(t, s, res("vpc", "ec2.vpc", "vpc-2"))
	if r, _ := s.Get("vpc"); r.ID != "vpc-2" || len(s.All()) != 5 {
		t.Fatalf("after replace: %+v, %d resources", r, len(s.All()))
	}

	if err := s.Remove("igw"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("igw"); ok {
		t.Fatal("igw still there after Remove")
	}
	for _, r := range readDisk(t, path).Resources {
		if r.Name == "igw" {
			t.Fatal("igw still in the file after Remove")
		}
	}
	if !s.Exists() {
		t.Fatal("Exists() false after writes")
	}
	if f := readDisk(t, path); f.ToolVersion != "1.2.3" || f.Stack != testStack || f.SchemaVersion != SchemaVersion {
		t.Fatalf("header = %+v", f)
	}
}

func TestReopenRoundTrip(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	if err := s.Bind("123456789012", "eu-west-3"); err != nil {
		t.Fatal(err)
	}
	in := Resource{Name: "vpc", Kind: "ec2.vpc", ID: "vpc-0abc", ARN: "arn:aws:ec2:eu-west-3:123456789012:vpc/vpc-0abc",
		Attrs: map[string]string{"cidr": "10.0.0.0/16"}, Deps: []string{"x"},
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	mustPut(t, s, in)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, path, Options{})
	got, ok := s2.Get("vpc")
	if !ok || !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip: got %+v, want %+v", got, in)
	}
	if s2.Account() != "123456789012" || s2.Region() != "eu-west-3" || s2.Serial() != 1 || !s2.Exists() {
		t.Fatalf("reopened: account %q region %q serial %d exists %v", s2.Account(), s2.Region(), s2.Serial(), s2.Exists())
	}
}

func TestSerialIncrementsOnEveryWrite(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	if s.Serial() != 0 {
		t.Fatalf("fresh serial = %d", s.Serial())
	}
	for i := 1; i <= 5; i++ {
		mustPut(t, s, res("r", "k", "id"))
		if s.Serial() != int64(i) || readDisk(t, path).Serial != int64(i) {
			t.Fatalf("after write %d: serial %d, on disk %d", i, s.Serial(), readDisk(t, path).Serial)
		}
	}
	if err := s.Remove("r"); err != nil {
		t.Fatal(err)
	}
	if s.Serial() != 6 || readDisk(t, path).Serial != 6 {
		t.Fatalf("after Remove: serial %d", s.Serial())
	}
	// Removing something absent writes nothing.
	if err := s.Remove("r"); err != nil || s.Serial() != 6 {
		t.Fatalf("Remove(absent): %v, serial %d", err, s.Serial())
	}
	_ = s.Close()
	s2 := mustOpen(t, path, Options{})
	mustPut(t, s2, res("r", "k", "id"))
	if s2.Serial() != 7 {
		t.Fatalf("serial continues across runs: got %d, want 7", s2.Serial())
	}
}

func TestAtomicWriteModesAndNoLeftovers(t *testing.T) {
	path := statePath(t)
	dir := filepath.Dir(path)
	s := mustOpen(t, path, Options{})
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("state directory mode %v, want 0700", di.Mode().Perm())
	}
	for i := range 20 {
		mustPut(t, s, Resource{Name: "r" + string(rune('a'+i)), Kind: "k", ID: "id", Attrs: map[string]string{"i": strings.Repeat("x", i*100)}})
		// Every intermediate file is complete and parseable, mode 0600.
		f := readDisk(t, path)
		if len(f.Resources) != i+1 {
			t.Fatalf("write %d: %d resources on disk", i, len(f.Resources))
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("state file mode %v, want 0600", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestExistingFileWithLooseModeIsTightenedOnWrite(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	mustPut(t, s, res("a", "k", "1"))
	_ = s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, path, Options{})
	mustPut(t, s2, res("b", "k", "2"))
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rewrite %v, want 0600", fi.Mode().Perm())
	}
}

func TestLeftoverTempFilesRemovedOnOpen(t *testing.T) {
	path := statePath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	crashed := path + ".tmp-12345"                                 // what CreateTemp names them
	other := filepath.Join(filepath.Dir(path), "other.json.tmp-1") // another stack's: untouched
	for _, p := range []string{crashed, other} {
		if err := os.WriteFile(p, []byte("{half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustOpen(t, path, Options{})
	if _, err := os.Stat(crashed); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover temp of this stack not removed: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another stack's file was touched: %v", err)
	}
}

func TestWriteFailureChangesNothing(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	mustPut(t, s, res("a", "k", "1"))
	// Put a directory where the file goes: the rename fails (even as root).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := s.Put(res("b", "k", "2"))
	if err == nil {
		t.Fatal("Put succeeded although the file could not be replaced")
	}
	if !strings.Contains(err.Error(), `record "b"`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not say what was done: %v", err)
	}
	if _, ok := s.Get("b"); ok || s.Serial() != 1 {
		t.Fatalf("memory changed by a failed write: b present=%v serial=%d", ok, s.Serial())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind after failure: %s", e.Name())
		}
	}
}

func TestPutCopiesAndReturnsCopies(t *testing.T) {
	s := mustOpen(t, statePath(t), Options{})
	attrs := map[string]string{"a": "1"}
	deps := []string{"vpc"}
	mustPut(t, s, Resource{Name: "x", Kind: "k", ID: "i", Attrs: attrs, Deps: deps})
	attrs["a"] = "changed"
	deps[0] = "changed"
	got, _ := s.Get("x")
	if got.Attrs["a"] != "1" || got.Deps[0] != "vpc" {
		t.Fatalf("store aliases caller's map/slice: %+v", got)
	}
	got.Attrs["a"] = "mutated"
	all := s.All()
	all[0].Deps[0] = "mutated"
	again, _ := s.Get("x")
	if again.Attrs["a"] != "1" || again.Deps[0] != "vpc" {
		t.Fatalf("Get/All return aliases of internal state: %+v", again)
	}
}

func TestCreatedAtDefaultAndKept(t *testing.T) {
	clock := fixedClock()
	s := mustOpen(t, statePath(t), Options{Now: clock})
	mustPut(t, s, res("x", "k", "1"))
	first, _ := s.Get("x")
	if first.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	mustPut(t, s, res("x", "k", "2")) // update without CreatedAt keeps the original
	second, _ := s.Get("x")
	if !second.CreatedAt.Equal(first.CreatedAt) || second.ID != "2" {
		t.Fatalf("CreatedAt %v -> %v", first.CreatedAt, second.CreatedAt)
	}
	explicit := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mustPut(t, s, Resource{Name: "x", Kind: "k", ID: "3", CreatedAt: explicit})
	third, _ := s.Get("x")
	if !third.CreatedAt.Equal(explicit) {
		t.Fatalf("explicit CreatedAt not kept: %v", third.CreatedAt)
	}
}

func TestPutRejectsBadResources(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	mustPut(t, s, res("ok", "k", "1"))
	before, _ := os.ReadFile(path)
	cases := []struct {
		r    Resource
		want string
	}{
		{res("", "k", "1"), "name is empty"},
		{res("a", "", "1"), "kind is empty"},
		{res("a", "k", ""), "id is empty"},
		{Resource{Name: "redis", Kind: "elasticache.rg", ID: "r", Attrs: map[string]string{"auth_token": "hunter2"}}, `attrs["auth_token"]`},
		{Resource{Name: "db", Kind: "k", ID: "r", Attrs: map[string]string{"MasterPassword": "x"}}, `attrs["MasterPassword"]`},
		{Resource{Name: "u", Kind: "iam.user", ID: "r", Attrs: map[string]string{"secret_access_key": "x"}}, "secret"},
	}
	for _, c := range cases {
		err := s.Put(c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Put(%+v) = %v, want error containing %q", c.r, err, c.want)
		}
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) || s.Serial() != 1 {
		t.Fatal("a rejected Put changed the file")
	}
	// References to secrets are not secrets.
	mustPut(t, s, Resource{Name: "redis", Kind: "k", ID: "r", Attrs: map[string]string{"auth_token_secret_arn": "arn:aws:secretsmanager:x", "auth_token_enabled": "true"}})
}

func TestReadOnly(t *testing.T) {
	path := statePath(t)
	w := mustOpen(t, path, Options{})
	mustPut(t, w, res("vpc", "ec2.vpc", "vpc-1"))
	_ = w.Close()
	before, _ := os.ReadFile(path)

	r := mustOpen(t, path, Options{ReadOnly: true})
	if got, ok := r.Get("vpc"); !ok || got.ID != "vpc-1" {
		t.Fatalf("read-only Get = %+v %v", got, ok)
	}
	for name, err := range map[string]error{
		"Put":    r.Put(res("a", "k", "1")),
		"Remove": r.Remove("vpc"),
		"Delete": r.Delete(),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on read-only store: %v, want ErrReadOnly", name, err)
		}
	}
	if err := r.Bind("123456789012", "us-east-1"); err != nil { // checks, records in memory only
		t.Fatal(err)
	}
	_ = r.Close()
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("read-only store changed the file")
	}
}

func TestReadOnlyWithoutStateCreatesNothing(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, ".wbo-deploy", "wbo.json")
	s := mustOpen(t, path, Options{ReadOnly: true})
	if s.Exists() || len(s.All()) != 0 || s.Serial() != 0 {
		t.Fatal("empty state expected")
	}
	_ = s.Close()
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open created the state directory: %v", err)
	}
}

func TestDelete(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	mustPut(t, s, res("vpc", "ec2.vpc", "vpc-1"))
	mustPut(t, s, res("igw", "ec2.igw", "igw-1"))
	err := s.Delete()
	if err == nil || !strings.Contains(err.Error(), "igw, vpc") {
		t.Fatalf("Delete with resources recorded: %v, want refusal naming them", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("file gone after refused Delete: %v", err)
	}
	for _, n := range []string{"vpc", "igw"} {
		if err := s.Remove(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file still there: %v", err)
	}
	if s.Exists() {
		t.Fatal("Exists() after Delete")
	}
	if err := s.Delete(); err != nil { // second destroy: no-op
		t.Fatalf("second Delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Fatalf("files left after destroy and Close: %v", entries)
	}
}

func TestClosedStore(t *testing.T) {
	s := mustOpen(t, statePath(t), Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Put(res("a", "k", "1")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	if err := s.Bind("1", "r"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Bind after Close: %v", err)
	}
}

func TestOpenArguments(t *testing.T) {
	if _, err := Open("", "wbo", Options{}); err == nil {
		t.Fatal("empty path accepted")
	}
	if _, err := Open(statePath(t), "", Options{}); err == nil || !strings.Contains(err.Error(), "stack") {
		t.Fatalf("empty stack: %v", err)
	}
}
