package boards

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// loopbackStore is a Store on gofakes3 (a versioned bucket on 127.0.0.1),
// reached by the real SDK client over HTTP: the wire protocol, paging and
// version listing of a real S3 server, not the simulated cloud's.
func loopbackStore(t *testing.T, shards int) (*Store, *s3mem.Backend) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("boards-bucket"); err != nil {
		t.Fatal(err)
	}
	if err := backend.SetVersioningConfiguration("boards-bucket", gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	cl := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired, ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
	return &Store{S3: cl, Bucket: "boards-bucket", Prefix: "boards/", Shards: shards}, backend
}

func exported(t *testing.T, s *Store, name string) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := s.Export(context.Background(), name, &b); err != nil {
		t.Fatalf("export %s: %v", name, err)
	}
	return b.String()
}

func TestRoundTripsOnLoopbackS3(t *testing.T) {
	ctx := context.Background()
	s, backend := loopbackStore(t, 3)
	put := func(key, body string) {
		t.Helper()
		if _, err := backend.PutObject("boards-bucket", key, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	// As the sidecars store them: raw names, an older percent-encoded one,
	// a legacy .json, temp-looking and foreign keys that are no boards.
	put("boards/board-abc.svg", "<svg>abc 1</svg>")
	put("boards/board-тест.svg", "<svg>тест</svg>")
	put("boards/board-%D0%B6%D1%83%D0%BA.svg", "<svg>жук</svg>")
	put("boards/board-old.json", `{"old":1}`)
	put("boards/.leases/wbo-shard-0", "task 1")
	put("boards/sub/board-x.svg", "<svg/>")
	put("boards/notes.txt", "x")
	put("other/board-abc.svg", "<svg/>")

	bs, err := s.List(ctx, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
		if want := shard.Owner(3, shard.KeyOfName(b.Name)); b.Shard != want {
			t.Errorf("%s on shard %d, want %d", b.Name, b.Shard, want)
		}
	}
	if got, want := strings.Join(names, " "), "abc old жук тест"; got != want {
		t.Fatalf("List: %q, want %q", got, want)
	}
	if got := exported(t, s, "жук"); got != "<svg>жук</svg>" {
		t.Errorf("export of an older WBO's percent-encoded board: %q", got)
	}

	// export → rm → import gives the same SVG.
	orig := exported(t, s, "abc")
	if _, err := s.Remove(ctx, "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Export(ctx, "abc", &bytes.Buffer{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export after rm: %v, want ErrNotFound", err)
	}
	if _, err := s.Put(ctx, "abc", []byte(orig)); err != nil {
		t.Fatal(err)
	}
	if got := exported(t, s, "abc"); got != orig {
		t.Fatalf("export → rm → import: %q, want %q", got, orig)
	}

	// restore --at: each version's own time gives that version back; the
	// time of the delete marker says the board was deleted then.
	time.Sleep(1100 * time.Millisecond) // distinct LastModified seconds (S3 lists whole seconds)
	if _, err := s.Put(ctx, "abc", []byte("<svg>abc 2</svg>")); err != nil {
		t.Fatal(err)
	}
	_, vs, err := s.Find(ctx, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 || !vs[0].Latest || !vs[2].Deleted {
		t.Fatalf("versions of abc, newest first: %+v; want put, put, delete marker, put", vs)
	}
	b, v, err := s.VersionAt(ctx, "abc", vs[3].LastModified)
	if err != nil || v.ID != vs[3].ID && !v.LastModified.Equal(vs[3].LastModified) {
		t.Fatalf("VersionAt(first version's time) = %+v, %v; want %+v", v, err, vs[3])
	}
	if _, err := s.RestoreVersion(ctx, b, v); err != nil {
		t.Fatal(err)
	}
	if got := exported(t, s, "abc"); got != "<svg>abc 1</svg>" {
		t.Fatalf("after restore to the first version: %q", got)
	}
	if _, _, err := s.VersionAt(ctx, "abc", vs[3].LastModified.Add(-time.Hour)); err == nil || !strings.Contains(err.Error(), "no version at or before") {
		t.Fatalf("VersionAt before the first version: %v", err)
	}

	// A deleted board can be restored by time too.
	if _, err := s.Remove(ctx, "тест"); err != nil {
		t.Fatal(err)
	}
	_, vs, _ = s.Find(ctx, "тест")
	b, v, err = s.VersionAt(ctx, "тест", vs[len(vs)-1].LastModified)
	if err != nil {
		t.Fatalf("VersionAt of a deleted board, before its deletion: %v", err)
	}
	if _, err := s.RestoreVersion(ctx, b, v); err != nil {
		t.Fatal(err)
	}
	if got := exported(t, s, "тест"); got != "<svg>тест</svg>" {
		t.Fatalf("deleted board restored: %q", got)
	}
}

func TestImportRefusesWhatWBOWouldNotStore(t *testing.T) {
	s, _ := loopbackStore(t, 1)
	for _, c := range []struct{ name, data, want string }{
		{"Abc", "<svg/>", "upper-case"},
		{"a b", "<svg/>", "' '"},
		{"-x", "<svg/>", "starts or ends with -"},
		{"x", "<html></html>", "not an SVG"},
		{"x", "\xff\xfe", "not UTF-8"},
	} {
		if _, err := s.Put(context.Background(), c.name, []byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Put(%q, %q): %v, want an error mentioning %q", c.name, c.data, err, c.want)
		}
	}
	for _, ok := range []string{"тест", "日本語", "café", "(x)~y_z-1"} {
		if why := ValidName(ok); why != "" {
			t.Errorf("ValidName(%q) = %q; WBO accepts it", ok, why)
		}
	}
	if why := CheckSVG([]byte("\xef\xbb\xbf<?xml version=\"1.0\"?>\n<svg></svg>")); why != "" {
		t.Errorf("an SVG with a BOM and an XML declaration: %s", why)
	}
}
