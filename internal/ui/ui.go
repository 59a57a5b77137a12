// Package ui renders wbo-deploy's output: progress on stderr (live, coloured
// lines on a terminal; plain timestamped lines in pipes and CI), tables and
// JSON documents on stdout.
package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/provision"
)

// Streams are a command's standard streams and what they are connected to.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTTY, OutTTY, ErrTTY say whether each is an interactive terminal.
	InTTY, OutTTY, ErrTTY bool
	// Color enables ANSI colour on terminals (off with --no-color or NO_COLOR).
	Color bool
}

// IsTerminal reports whether f is a character device (a terminal), using
// only the standard library.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}

// System returns the process's streams.
func System(noColor bool, getenv func(string) string) *Streams {
	s := &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY: IsTerminal(os.Stdin), OutTTY: IsTerminal(os.Stdout), ErrTTY: IsTerminal(os.Stderr)}
	if getenv("CI") == "true" {
		s.ErrTTY = false
	}
	_, noColorEnv := os.LookupEnv("NO_COLOR")
	s.Color = s.ErrTTY && !noColor && !noColorEnv && getenv("TERM") != "dumb"
	return s
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// Paint wraps s in an ANSI colour when colour is on.
func (s *Streams) Paint(color, text string) string {
	if !s.Color {
		return text
	}
	return color + text + reset
}

// Colours by meaning.
func (s *Streams) Good(t string) string { return s.Paint(green, t) }
func (s *Streams) Bad(t string) string  { return s.Paint(red, t) }
func (s *Streams) Warn(t string) string { return s.Paint(yellow, t) }
func (s *Streams) Dim(t string) string  { return s.Paint(dim, t) }
func (s *Streams) Bold(t string) string { return s.Paint(bold, t) }

// Progress renders engine events on stderr.
type Progress struct {
	s       *Streams
	verbose bool
	mu      sync.Mutex
	live    bool // the last line written is a rewritable wait line
	start   time.Time
}

// NewProgress makes a renderer.
func NewProgress(s *Streams, verbose bool) *Progress {
	return &Progress{s: s, verbose: verbose, start: time.Now()}
}

// Sink returns the engine's event sink.
func (p *Progress) Sink() provision.Sink { return p.handle }

func (p *Progress) handle(ev provision.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line, ok := p.format(ev)
	if !ok {
		return
	}
	if !p.s.ErrTTY {
		fmt.Fprintf(p.s.Err, "%s %s\n", ev.Time.UTC().Format(time.RFC3339), line)
		return
	}
	if p.live {
		fmt.Fprint(p.s.Err, "\r\x1b[2K")
	}
	if ev.Phase == provision.PhaseWait {
		fmt.Fprint(p.s.Err, line)
		p.live = true
		return
	}
	fmt.Fprintln(p.s.Err, line)
	p.live = false
}

// Finish ends a live line.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprintln(p.s.Err)
		p.live = false
	}
}

func (p *Progress) format(ev provision.Event) (string, bool) {
	who := ev.Node
	switch ev.Phase {
	case provision.PhaseStart:
		if ev.Action == "" {
			if !p.verbose {
				return "", false
			}
			return p.s.Dim(fmt.Sprintf("  %-22s checking", who)), true
		}
		msg := ev.Action
		if ev.Message != "" {
			msg += ": " + ev.Message
		}
		sym := p.s.Warn("~")
		switch ev.Action {
		case "create":
			sym = p.s.Good("+")
		case "delete":
			sym = p.s.Bad("-")
		}
		return fmt.Sprintf("%s %-22s %s", sym, who, msg), true
	case provision.PhaseWait:
		if ev.Elapsed <= 0 || strings.Contains(ev.Message, "elapsed") {
			return fmt.Sprintf("%s %-22s %s", p.s.Dim("…"), who, ev.Message), true
		}
		return fmt.Sprintf("%s %-22s %s (%s)", p.s.Dim("…"), who, ev.Message, ev.Elapsed.Round(time.Second)), true
	case provision.PhaseDone:
		if ev.Action == "no-op" && !p.verbose {
			return "", false
		}
		msg := ev.Action
		if ev.Message != "" {
			msg += " " + ev.Message
		}
		return fmt.Sprintf("%s %-22s %s", p.s.Good("✓"), who, msg), true
	case provision.PhaseFailed:
		return fmt.Sprintf("%s %-22s %s", p.s.Bad("✗"), who, ev.Message), true
	case provision.PhaseReady:
		return fmt.Sprintf("%s %-22s %s", p.s.Good("★"), who, ev.Message), true
	case provision.PhaseSkipped:
		return fmt.Sprintf("%s %-22s skipped (%s)", p.s.Warn("-"), who, ev.Message), true
	default:
		return fmt.Sprintf("  %-22s %s", who, ev.Message), true
	}
}

// JSON writes v as one indented JSON document.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Table writes rows as aligned columns.
func Table(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) && len([]rune(c)) > widths[i] {
				widths[i] = len([]rune(c))
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			if i == len(cells)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}

// ShortID shortens an ARN for tables: the account, region and partition are
// the same on every line, so only the resource part is kept.
func ShortID(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) < 6 {
		return id
	}
	return parts[5]
}
