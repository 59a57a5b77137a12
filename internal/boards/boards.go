// Package boards manages WBO's boards where they are kept: the board bucket
// (one object per board, as the sidecars store WBO's files: <prefix>board-
// <name>.svg, versioned) and the shard services that hold them in memory.
//
// WBO reads a board file when its first user connects and keeps it in
// memory, overwriting the file at its next save; a board replaced or deleted
// in S3 under a running task would be put back by that task. So every
// change (import, restore, rm) is made while the owning shard has no task:
// Restart scales that one service to zero, waits until its task has
// stopped (WBO's SIGTERM flush and the backup's final sync are then in S3),
// makes the change, and scales it back (the new task's restore copies the
// changed bucket). Other shards are not touched.
package boards

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// Store is a deployment's board bucket.
type Store struct {
	S3     awsclients.S3API
	Bucket string
	Prefix string // "" or ending in "/"
	Shards int    // shards owning boards by key; 1 = one owner for every board
}

// Board is one board in the bucket.
type Board struct {
	Name      string    `json:"name"`       // WBO's board name (decoded)
	Key       string    `json:"key"`        // its object key
	Shard     int       `json:"shard"`      // the shard that owns it
	Size      int64     `json:"size"`       // bytes of the current version
	LastSaved time.Time `json:"last_saved"` // when the current version reached S3
	Versions  int       `json:"versions"`   // versions kept (current + noncurrent)
}

// Version is one stored version of a board object.
type Version struct {
	ID           string    `json:"version_id"`
	LastModified time.Time `json:"last_modified"`
	Size         int64     `json:"size"`
	Deleted      bool      `json:"deleted"` // a delete marker
	Latest       bool      `json:"latest"`
}

// ErrNotFound is returned for a board that has no current version.
var ErrNotFound = errors.New("no such board")

// MaxBoardBytes bounds an imported or exported board: WBO caps a board at
// 32768 items, far below this.
const MaxBoardBytes = 64 << 20

// ValidName reports why name is not a board name as WBO writes it
// (client-data/js/board_name.js: lower-case, letters and digits of any
// script, _ ~ ( ) -, no leading or trailing -), or "" when it is.
func ValidName(name string) string {
	switch {
	case name == "":
		return "empty"
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	case len(name) > 200:
		return "longer than 200 bytes (WBO's file names would not fit)"
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return "starts or ends with -"
	case strings.ToLower(name) != name:
		return "has upper-case letters (WBO lower-cases names; use " + strings.ToLower(name) + ")"
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune("_~()-", r) {
			return fmt.Sprintf("has %q (WBO names are letters, digits and _ ~ ( ) -)", r)
		}
	}
	return ""
}

// fileName returns the board name of an object key under the prefix, ok
// false for anything that is not a board file directly under it.
func (s *Store) fileName(key string) (name string, ok bool) {
	rest, ok := strings.CutPrefix(key, s.Prefix+"board-")
	if !ok || strings.Contains(rest, "/") {
		return "", false
	}
	switch {
	case strings.HasSuffix(rest, ".svg"):
		rest = strings.TrimSuffix(rest, ".svg")
	case strings.HasSuffix(rest, ".json"):
		rest = strings.TrimSuffix(rest, ".json")
	default:
		return "", false
	}
	if rest == "" {
		return "", false
	}
	if strings.Contains(rest, "%") { // older WBO: percent-encoded names
		if dec, err := url.PathUnescape(rest); err == nil {
			return dec, true
		}
	}
	return rest, true
}

// ShardOf is the shard owning board name (by its first byte, internal/shard).
func (s *Store) ShardOf(name string) int {
	if s.Shards <= 1 {
		return 0
	}
	return shard.Owner(s.Shards, shard.KeyOfName(name))
}

// objectKey is where import writes a board: current WBO's raw file name.
func (s *Store) objectKey(name string) string { return s.Prefix + "board-" + name + ".svg" }

// versions lists every version and delete marker of the keys starting with
// prefix, newest first per key (the order S3 returns them in).
func (s *Store) versions(ctx context.Context, prefix string) (map[string][]Version, error) {
	out := map[string][]Version{}
	var keyMarker, idMarker *string
	for {
		res, err := s.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix),
			KeyMarker: keyMarker, VersionIdMarker: idMarker})
		if err != nil {
			return nil, fmt.Errorf("list board versions in s3://%s/%s: %w", s.Bucket, prefix, err)
		}
		for _, v := range res.Versions {
			k := aws.ToString(v.Key)
			out[k] = append(out[k], Version{ID: aws.ToString(v.VersionId), LastModified: aws.ToTime(v.LastModified),
				Size: aws.ToInt64(v.Size), Latest: aws.ToBool(v.IsLatest)})
		}
		for _, m := range res.DeleteMarkers {
			k := aws.ToString(m.Key)
			out[k] = append(out[k], Version{ID: aws.ToString(m.VersionId), LastModified: aws.ToTime(m.LastModified),
				Deleted: true, Latest: aws.ToBool(m.IsLatest)})
		}
		if !aws.ToBool(res.IsTruncated) {
			break
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextVersionIdMarker
	}
	for k := range out {
		vs := out[k]
		sort.SliceStable(vs, func(i, j int) bool {
			if vs[i].Latest != vs[j].Latest {
				return vs[i].Latest
			}
			return vs[i].LastModified.After(vs[j].LastModified)
		})
	}
	return out, nil
}

func boardOf(s *Store, key, name string, vs []Version) (Board, bool) {
	if len(vs) == 0 || vs[0].Deleted {
		return Board{}, false
	}
	b := Board{Name: name, Key: key, Shard: s.ShardOf(name), Size: vs[0].Size, LastSaved: vs[0].LastModified}
	for _, v := range vs {
		if !v.Deleted {
			b.Versions++
		}
	}
	return b, true
}

// List returns the boards whose name starts with namePrefix (raw form),
// owned by shardIndex (-1: every shard), sorted by name.
func (s *Store) List(ctx context.Context, namePrefix string, shardIndex int) ([]Board, error) {
	all, err := s.versions(ctx, s.Prefix+"board-"+namePrefix)
	if err != nil {
		return nil, err
	}
	out := []Board{}
	for key, vs := range all {
		name, ok := s.fileName(key)
		if !ok {
			continue
		}
		b, ok := boardOf(s, key, name, vs)
		if ok && (shardIndex < 0 || b.Shard == shardIndex) {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// candidates are the object keys a board may be stored under: current
// WBO's raw name, older WBO's percent-encoded one, .svg or legacy .json.
func (s *Store) candidates(name string) []string {
	forms := []string{name}
	if enc := shard.EncodeURIComponent(name); enc != name {
		forms = append(forms, enc)
	}
	var out []string
	for _, f := range forms {
		out = append(out, s.Prefix+"board-"+f+".svg", s.Prefix+"board-"+f+".json")
	}
	return out
}

// Find returns the board called name and the versions of its object.
func (s *Store) Find(ctx context.Context, name string) (Board, []Version, error) {
	var found []Board
	var vers [][]Version
	var history []Version
	historyKey := s.objectKey(name)
	for _, key := range s.candidates(name) {
		all, err := s.versions(ctx, key)
		if err != nil {
			return Board{}, nil, err
		}
		vs := all[key]
		if len(vs) > 0 && history == nil {
			history, historyKey = vs, key
		}
		if b, ok := boardOf(s, key, name, vs); ok {
			found, vers = append(found, b), append(vers, vs)
		}
	}
	if len(found) == 0 {
		return Board{Name: name, Key: historyKey, Shard: s.ShardOf(name)}, history, fmt.Errorf("board %q: %w in s3://%s/%s", name, ErrNotFound, s.Bucket, s.Prefix)
	}
	// Current WBO's .svg first; that is the file WBO reads.
	return found[0], vers[0], nil
}

// Export writes the current version of board name to w.
func (s *Store) Export(ctx context.Context, name string, w io.Writer) (Board, error) {
	b, _, err := s.Find(ctx, name)
	if err != nil {
		return b, err
	}
	return b, s.get(ctx, b.Key, "", w)
}

// ExportKey writes the current version of an object key (from List) to w.
func (s *Store) ExportKey(ctx context.Context, key string, w io.Writer) error {
	return s.get(ctx, key, "", w)
}

func (s *Store) get(ctx context.Context, key, versionID string, w io.Writer) error {
	in := &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := s.S3.GetObject(ctx, in)
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	n, err := io.Copy(w, io.LimitReader(out.Body, MaxBoardBytes+1))
	if err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	if n > MaxBoardBytes {
		return fmt.Errorf("s3://%s/%s is larger than %d bytes: no WBO board", s.Bucket, key, MaxBoardBytes)
	}
	return nil
}

// CheckSVG reports why data is not a board file WBO 2.17 stores (an SVG
// document), or "" when it is.
func CheckSVG(data []byte) string {
	if len(data) > MaxBoardBytes {
		return fmt.Sprintf("larger than %d bytes", MaxBoardBytes)
	}
	if !utf8.Valid(data) {
		return "not UTF-8 text"
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(t, []byte("<?xml")) {
		if i := bytes.Index(t, []byte("?>")); i >= 0 {
			t = bytes.TrimLeft(t[i+2:], " \t\r\n")
		}
	}
	if !bytes.HasPrefix(t, []byte("<svg")) {
		return "not an SVG document (WBO stores boards as <svg>...</svg>)"
	}
	return ""
}

// Put makes data the current version of board name (under current WBO's
// file name); other stored forms of the same board (older WBO's
// percent-encoded or .json files) are deleted so WBO finds only this one.
// The caller stops the owning shard first (see the package doc).
func (s *Store) Put(ctx context.Context, name string, data []byte) (Board, error) {
	if why := ValidName(name); why != "" {
		return Board{}, fmt.Errorf("board name %q: %s", name, why)
	}
	if why := CheckSVG(data); why != "" {
		return Board{}, fmt.Errorf("board %q: %s", name, why)
	}
	key := s.objectKey(name)
	if _, err := s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("image/svg+xml")}); err != nil {
		return Board{}, fmt.Errorf("put s3://%s/%s: %w", s.Bucket, key, err)
	}
	for _, k := range s.candidates(name) {
		if k == key {
			continue
		}
		if err := s.deleteIfCurrent(ctx, k); err != nil {
			return Board{}, err
		}
	}
	b, _, err := s.Find(ctx, name)
	return b, err
}

// VersionAt returns the version of board name that was current at t: the
// newest version or delete marker stored at or before t.
func (s *Store) VersionAt(ctx context.Context, name string, t time.Time) (Board, Version, error) {
	b, vs, err := s.Find(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return b, Version{}, err
	}
	if len(vs) == 0 {
		return b, Version{}, fmt.Errorf("board %q has no stored version in s3://%s/%s", name, s.Bucket, s.Prefix)
	}
	var pick *Version
	for i := range vs {
		if !vs[i].LastModified.After(t) && (pick == nil || vs[i].LastModified.After(pick.LastModified)) {
			pick = &vs[i]
		}
	}
	oldest := vs[len(vs)-1].LastModified
	switch {
	case pick == nil:
		return b, Version{}, fmt.Errorf("board %q has no version at or before %s (the oldest kept is from %s)", name, t.UTC().Format(time.RFC3339), oldest.UTC().Format(time.RFC3339))
	case pick.Deleted:
		return b, *pick, fmt.Errorf("board %q was deleted at %s (deleted %s)", name, t.UTC().Format(time.RFC3339), pick.LastModified.UTC().Format(time.RFC3339))
	}
	return b, *pick, nil
}

// RestoreVersion makes version v of board b's object its current version
// again (a copy: every later version stays). The caller stops the owning
// shard first.
func (s *Store) RestoreVersion(ctx context.Context, b Board, v Version) (Board, error) {
	var buf bytes.Buffer
	if err := s.get(ctx, b.Key, v.ID, &buf); err != nil {
		return b, err
	}
	if _, err := s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(b.Key),
		Body: bytes.NewReader(buf.Bytes()), ContentLength: aws.Int64(int64(buf.Len()))}); err != nil {
		return b, fmt.Errorf("put s3://%s/%s: %w", s.Bucket, b.Key, err)
	}
	nb, _, err := s.Find(ctx, b.Name)
	return nb, err
}

// Remove deletes board name: a delete marker on each stored form. Versioning
// keeps its versions until the bucket's lifecycle rule expires them
// (storage.noncurrent_version_days after they became noncurrent), so
// restore --at brings it back until then. The caller stops the owning shard
// first.
func (s *Store) Remove(ctx context.Context, name string) (Board, error) {
	b, _, err := s.Find(ctx, name)
	if err != nil {
		return b, err
	}
	for _, k := range s.candidates(name) {
		if err := s.deleteIfCurrent(ctx, k); err != nil {
			return b, err
		}
	}
	return b, nil
}

// deleteIfCurrent puts a delete marker on key when it has a current version.
func (s *Store) deleteIfCurrent(ctx context.Context, key string) error {
	all, err := s.versions(ctx, key)
	if err != nil {
		return err
	}
	if vs := all[key]; len(vs) == 0 || vs[0].Deleted {
		return nil
	}
	if _, err := s.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}
