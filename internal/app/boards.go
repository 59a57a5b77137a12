package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/boards"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// The board commands work on the board bucket directly, whether the app
// runs or not; the ones that change a board restart only the owning shard
// (boards.Service.While) and ask first.

// BoardsListOptions are `boards ls`'s flags.
type BoardsListOptions struct {
	Shard  int    // -1 = every shard
	Prefix string // board name prefix
}

// BoardsDocument is the JSON output of the board commands, schema
// wbo-deploy.boards/v1 (docs/json.md): the boards concerned, and for a
// change the shard restart it made.
type BoardsDocument struct {
	Schema   string            `json:"schema"`
	Stack    string            `json:"stack"`
	Bucket   string            `json:"bucket"`
	Action   string            `json:"action"` // ls, export, import, restore, rm
	Boards   []boards.Board    `json:"boards"`
	Version  *boards.Version   `json:"version,omitempty"`  // restore: the version made current
	Files    []string          `json:"files,omitempty"`    // export: the files written
	Downtime *boards.Downtime  `json:"downtime,omitempty"` // import, restore, rm
	Notes    []string          `json:"notes,omitempty"`
	Errors   map[string]string `json:"errors,omitempty"` // export --all: boards that failed
}

type boardsRun struct {
	g       *Globals
	cfg     *config.Config
	clients *awsclients.Clients
	store   *boards.Store
	doc     BoardsDocument
}

func (g *Globals) startBoards(ctx context.Context, action string) (*boardsRun, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	clients, err := g.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	n := 1
	if cfg.App.Mode == config.ModeSharded {
		n = len(cfg.ServiceNames())
	}
	bucket := cfg.BoardBucket(clients.Account, clients.Region)
	st := &boards.Store{S3: clients.S3, Bucket: bucket, Prefix: cfg.Storage.Prefix, Shards: n}
	return &boardsRun{g: g, cfg: cfg, clients: clients, store: st,
		doc: BoardsDocument{Schema: "wbo-deploy.boards/v1", Stack: cfg.Stack, Bucket: bucket, Action: action, Boards: []boards.Board{}}}, nil
}

// service is the ECS service of shard i.
func (r *boardsRun) service(i int) boards.Service {
	names := r.cfg.ServiceNames()
	name := names[0]
	if i >= 0 && i < len(names) {
		name = names[i]
	}
	clock := r.g.clock()
	return boards.Service{ECS: r.clients.ECS, Cluster: r.cfg.Names().Cluster, Name: name, Sleep: clock.Sleep, Polls: 60,
		Note: func(m string) {
			if !r.g.JSON() {
				fmt.Fprintln(r.g.IO.Err, m)
			}
		}}
}

// change asks, then runs f with the owning shard of name stopped.
func (r *boardsRun) change(ctx context.Context, name, what string, f func(context.Context) error) error {
	sh := r.store.ShardOf(name)
	svc := r.service(sh)
	down := fmt.Sprintf("%s board %q: restarts %s, the service of the shard that owns it (shard %d of %d; no other shard is touched). "+
		"Its boards are unavailable for about 3-7 minutes: its task stops (WBO saves, the backup makes its final sync), then a new task restores the boards and starts.",
		what, name, svc.Name, sh, r.store.Shards)
	if r.cfg.App.Mode == config.ModeShared {
		down = fmt.Sprintf("%s board %q: restarts %s, the app's only service: the whole app is unavailable for about 3-7 minutes.", what, name, svc.Name)
	}
	if err := confirm(r.g, down); err != nil {
		return err
	}
	d, err := svc.While(ctx, f)
	r.doc.Downtime = &d
	return err
}

func (r *boardsRun) render(text func(w io.Writer)) error {
	if r.g.JSON() {
		return ui.JSON(r.g.IO.Out, r.doc)
	}
	text(r.g.IO.Out)
	for _, n := range r.doc.Notes {
		fmt.Fprintln(r.g.IO.Out, "Note: "+n)
	}
	return nil
}

func boardRows(bs []boards.Board) [][]string {
	rows := make([][]string, 0, len(bs))
	for _, b := range bs {
		rows = append(rows, []string{b.Name, strconv.Itoa(b.Shard), strconv.FormatInt(b.Size, 10),
			b.LastSaved.UTC().Format(time.RFC3339), strconv.Itoa(b.Versions)})
	}
	return rows
}

// BoardsList lists the boards in the bucket.
func BoardsList(ctx context.Context, g *Globals, o BoardsListOptions) error {
	r, err := g.startBoards(ctx, "ls")
	if err != nil {
		return err
	}
	if o.Shard >= r.store.Shards {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--shard %d: the deployment has shards 0..%d", o.Shard, r.store.Shards-1)}
	}
	bs, err := r.store.List(ctx, o.Prefix, o.Shard)
	if err != nil {
		return err
	}
	r.doc.Boards = bs
	return r.render(func(w io.Writer) {
		if len(bs) == 0 {
			fmt.Fprintf(w, "No boards in s3://%s/%s%s.\n", r.store.Bucket, r.store.Prefix, map[bool]string{true: " with that prefix or shard"}[o.Prefix != "" || o.Shard >= 0])
			return
		}
		ui.Table(w, []string{"NAME", "SHARD", "SIZE", "LAST SAVED", "VERSIONS"}, boardRows(bs))
	})
}

// BoardsExportOptions are `boards export`'s flags.
type BoardsExportOptions struct {
	Name   string // one board
	Output string // its file ("" or "-" = stdout)
	AllDir string // --all DIR: every board into DIR
}

// BoardsExport writes a board's stored SVG to a file or stdout, or every
// board into a directory (board-<name>.svg, as WBO names them).
func BoardsExport(ctx context.Context, g *Globals, o BoardsExportOptions) error {
	if (o.Name == "") == (o.AllDir == "") {
		return &ExitError{Code: ExitUsage, Err: errors.New("boards export: give a board NAME or --all DIR")}
	}
	r, err := g.startBoards(ctx, "export")
	if err != nil {
		return err
	}
	if o.AllDir != "" {
		return r.exportAll(ctx, o.AllDir)
	}
	var buf bytes.Buffer
	b, err := r.store.Export(ctx, o.Name, &buf)
	if err != nil {
		return err
	}
	r.doc.Boards = []boards.Board{b}
	if o.Output == "" || o.Output == "-" {
		if g.JSON() {
			return &ExitError{Code: ExitUsage, Err: errors.New("boards export -o json: give the board's file with --file (stdout carries the JSON document)")}
		}
		_, err := g.IO.Out.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(o.Output, buf.Bytes()); err != nil {
		return err
	}
	r.doc.Files = []string{o.Output}
	return r.render(func(w io.Writer) {
		fmt.Fprintf(w, "Exported board %q (%d bytes) to %s.\n", b.Name, buf.Len(), o.Output)
	})
}

func (r *boardsRun) exportAll(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("boards export --all: %w", err)
	}
	bs, err := r.store.List(ctx, "", -1)
	if err != nil {
		return err
	}
	r.doc.Boards = bs
	tty := r.g.IO.ErrTTY && !r.g.JSON()
	for i, b := range bs {
		file := filepath.Join(dir, strings.TrimPrefix(b.Key, r.store.Prefix))
		var buf bytes.Buffer
		err := r.store.ExportKey(ctx, b.Key, &buf)
		if err == nil {
			err = writeFileAtomic(file, buf.Bytes())
		}
		if err != nil {
			if r.doc.Errors == nil {
				r.doc.Errors = map[string]string{}
			}
			r.doc.Errors[b.Name] = err.Error()
		} else {
			r.doc.Files = append(r.doc.Files, file)
		}
		if ctx.Err() != nil || r.g.interrupted() {
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted after %d of %d boards", i+1, len(bs))}
		}
		progressBar(r.g, tty, i+1, len(bs))
	}
	if err := r.render(func(w io.Writer) {
		fmt.Fprintf(w, "Exported %d of %d boards to %s.\n", len(r.doc.Files), len(bs), dir)
		for name, e := range r.doc.Errors {
			fmt.Fprintf(w, "  %s: %s\n", name, e)
		}
	}); err != nil {
		return err
	}
	if len(r.doc.Errors) > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d boards could not be exported", len(r.doc.Errors))}
	}
	return nil
}

// progressBar draws "[#####.....] i/n boards" on stderr: rewritten in place
// on a terminal, a line every 10% otherwise (never with -o json).
func progressBar(g *Globals, tty bool, i, n int) {
	if g.JSON() || n == 0 {
		return
	}
	const width = 30
	bar := strings.Repeat("#", i*width/n) + strings.Repeat(".", width-i*width/n)
	switch {
	case tty:
		fmt.Fprintf(g.IO.Err, "\r[%s] %d/%d boards", bar, i, n)
		if i == n {
			fmt.Fprintln(g.IO.Err)
		}
	case i == n || (i*10/n != (i-1)*10/n):
		fmt.Fprintf(g.IO.Err, "[%s] %d/%d boards\n", bar, i, n)
	}
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// BoardsImportOptions are `boards import`'s arguments.
type BoardsImportOptions struct {
	File string // an SVG as WBO stores it (e.g. from boards export)
	Name string // "" = from the file name (board-<name>.svg or <name>.svg)
}

// BoardsImport stores an SVG as a board's current version (a new version:
// what was there stays restorable), with its shard stopped.
func BoardsImport(ctx context.Context, g *Globals, o BoardsImportOptions) error {
	name := o.Name
	if name == "" {
		name = strings.TrimSuffix(strings.TrimPrefix(filepath.Base(o.File), "board-"), ".svg")
	}
	if why := boards.ValidName(name); why != "" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("board name %q: %s (give --name)", name, why)}
	}
	fi, err := os.Stat(o.File)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("boards import: %w", err)}
	}
	if fi.Size() > boards.MaxBoardBytes {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("boards import %s: larger than %d bytes", o.File, boards.MaxBoardBytes)}
	}
	data, err := os.ReadFile(o.File)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("boards import: %w", err)}
	}
	if why := boards.CheckSVG(data); why != "" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("boards import %s: %s", o.File, why)}
	}
	r, err := g.startBoards(ctx, "import")
	if err != nil {
		return err
	}
	what := "Import " + o.File + " as"
	if _, _, ferr := r.store.Find(ctx, name); ferr == nil {
		what = "Replace (a new version; the current one stays restorable) with " + o.File + " the"
	} else if !errors.Is(ferr, boards.ErrNotFound) {
		return ferr
	}
	var b boards.Board
	if err := r.change(ctx, name, what, func(ctx context.Context) error {
		var err error
		b, err = r.store.Put(ctx, name, data)
		return err
	}); err != nil {
		return err
	}
	r.doc.Boards = []boards.Board{b}
	return r.render(func(w io.Writer) {
		fmt.Fprintf(w, "Imported board %q (%d bytes, shard %d).\n", b.Name, b.Size, b.Shard)
	})
}

// BoardsRestoreOptions are `boards restore`'s arguments.
type BoardsRestoreOptions struct {
	Name string
	At   string // RFC 3339 time, a date, or a duration ago ("2h")
}

// ParseAt reads --at: RFC 3339 ("2026-01-02T15:04:05Z"), a date-time
// without zone (UTC), a date (its end, UTC), or a duration ago ("90m").
func ParseAt(s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--at %q: want a time (2006-01-02T15:04:05Z), a date (2006-01-02) or a duration ago (90m)", s)
}

// BoardsRestore makes the version of a board current at a time its current
// version again (from the bucket's object versions), with its shard stopped.
func BoardsRestore(ctx context.Context, g *Globals, o BoardsRestoreOptions) error {
	if why := boards.ValidName(o.Name); why != "" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("board name %q: %s", o.Name, why)}
	}
	at, err := ParseAt(o.At, time.Now())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	r, err := g.startBoards(ctx, "restore")
	if err != nil {
		return err
	}
	b, v, err := r.store.VersionAt(ctx, o.Name, at)
	if err != nil {
		return err
	}
	r.doc.Version = &v
	what := fmt.Sprintf("Restore the version saved %s (%d bytes) of", v.LastModified.UTC().Format(time.RFC3339), v.Size)
	if err := r.change(ctx, o.Name, what, func(ctx context.Context) error {
		var err error
		b, err = r.store.RestoreVersion(ctx, b, v)
		return err
	}); err != nil {
		return err
	}
	r.doc.Boards = []boards.Board{b}
	return r.render(func(w io.Writer) {
		fmt.Fprintf(w, "Restored board %q to its version of %s (now %d versions kept).\n", b.Name, v.LastModified.UTC().Format(time.RFC3339), b.Versions)
	})
}

// BoardsRemove deletes a board (a delete marker: its versions stay until the
// lifecycle rule expires them), with its shard stopped.
func BoardsRemove(ctx context.Context, g *Globals, name string) error {
	if why := boards.ValidName(name); why != "" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("board name %q: %s", name, why)}
	}
	r, err := g.startBoards(ctx, "rm")
	if err != nil {
		return err
	}
	b, _, err := r.store.Find(ctx, name)
	if err != nil {
		return err
	}
	days := r.cfg.Storage.NoncurrentVersionDays
	keep := fmt.Sprintf("its %d versions stay in the bucket for %d days after they became noncurrent (storage.noncurrent_version_days), so `wbo-deploy boards restore %s --at TIME` brings it back until then", b.Versions, days, name)
	if err := r.change(ctx, name, "Delete ("+keep+")", func(ctx context.Context) error {
		var err error
		b, err = r.store.Remove(ctx, name)
		return err
	}); err != nil {
		return err
	}
	r.doc.Boards = []boards.Board{b}
	r.doc.Notes = append(r.doc.Notes, "Board "+name+" deleted: "+keep+".")
	return r.render(func(w io.Writer) { fmt.Fprintf(w, "Deleted board %q.\n", name) })
}
