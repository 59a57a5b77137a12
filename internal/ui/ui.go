// Package ui renders wbo-deploy's output: progress on stderr (live, coloured
// lines on a terminal; plain timestamped lines in pipes and CI), tables and
// JSON documents on stdout.
package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// Streams are a command's standard streams and what they are connected to.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTTY, OutTTY, ErrTTY say whether each is an interactive terminal.
	InTTY, OutTTY, ErrTTY bool
	// OutColor and ErrColor enable ANSI colour on stdout and stderr, each
	// decided by its own stream (`plan > plan.txt` from a terminal writes no
	// escape codes to the file while stderr stays coloured).
	OutColor, ErrColor bool
	// Width is stdout's terminal width in columns (0: not a terminal, no limit).
	Width int
	// ErrWidth is stderr's terminal width (0: not a terminal).
	ErrWidth int
}

// IsTerminal reports whether f is an interactive terminal: isatty(3), a
// terminal ioctl that succeeds, not merely a character device (/dev/null is
// one, and cron, systemd and CI give it as standard input).
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// System returns the process's streams.
func System(noColor bool, getenv func(string) string) *Streams {
	s := &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY: IsTerminal(os.Stdin), OutTTY: IsTerminal(os.Stdout), ErrTTY: IsTerminal(os.Stderr)}
	if s.OutTTY {
		s.Width = termWidth(os.Stdout, getenv)
	}
	if s.ErrTTY {
		s.ErrWidth = termWidth(os.Stderr, getenv)
	}
	if getenv("CI") == "true" {
		// CI logs are files even when a runner allocates a pty: plain,
		// timestamped progress lines.
		s.ErrTTY = false
	}
	s.OutColor, s.ErrColor = ColorFor(s.OutTTY, noColor, getenv), ColorFor(s.ErrTTY, noColor, getenv)
	return s
}

// ColorFor decides colour for one stream: only on a terminal, and not with
// --no-color, a NO_COLOR that is set and not empty ("when present and not an
// empty string", no-color.org), or TERM=dumb.
func ColorFor(tty, noColor bool, getenv func(string) string) bool {
	return tty && !noColor && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// termWidth is the terminal's width, or COLUMNS when the size cannot be read.
func termWidth(f *os.File, getenv func(string) string) int {
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// Palette paints text for one stream.
type Palette struct{ On bool }

// Paint wraps text in an ANSI colour when colour is on.
func (p Palette) Paint(color, text string) string {
	if !p.On {
		return text
	}
	return color + text + reset
}

// Colours by meaning.
func (p Palette) Good(t string) string { return p.Paint(green, t) }
func (p Palette) Bad(t string) string  { return p.Paint(red, t) }
func (p Palette) Warn(t string) string { return p.Paint(yellow, t) }
func (p Palette) Dim(t string) string  { return p.Paint(dim, t) }
func (p Palette) Bold(t string) string { return p.Paint(bold, t) }

// O is stdout's palette, E stderr's.
func (s *Streams) O() Palette { return Palette{On: s.OutColor} }
func (s *Streams) E() Palette { return Palette{On: s.ErrColor} }

// Good, Bad, Warn, Dim and Bold paint for stdout.
func (s *Streams) Good(t string) string { return s.O().Good(t) }
func (s *Streams) Bad(t string) string  { return s.O().Bad(t) }
func (s *Streams) Warn(t string) string { return s.O().Warn(t) }
func (s *Streams) Dim(t string) string  { return s.O().Dim(t) }
func (s *Streams) Bold(t string) string { return s.O().Bold(t) }

// JSON writes v as one indented JSON document.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Table writes rows as aligned columns.
func Table(w io.Writer, header []string, rows [][]string) { TableWidth(w, 0, header, rows) }

// TableWidth writes rows as aligned columns within width columns (0: no
// limit). When the table is wider, the widest columns are narrowed first and
// their cells cut with "…" (full values are in -o json), so a row never wraps
// on an 80-column terminal.
func TableWidth(w io.Writer, width int, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = VisibleLen(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) && VisibleLen(c) > widths[i] {
				widths[i] = VisibleLen(c)
			}
		}
	}
	if width > 0 {
		fitWidths(widths, width)
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			if i < len(widths) && VisibleLen(c) > widths[i] {
				c = Truncate(c, widths[i])
			}
			if i == len(cells)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", max(widths[i]-VisibleLen(c), 0)+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}

// fitWidths narrows the widest columns until the row (with two spaces
// between columns) fits width; no column goes below 8 characters (or its
// own width when narrower).
func fitWidths(widths []int, width int) {
	total := func() int {
		n := 0
		for _, w := range widths {
			n += w
		}
		return n + 2*(len(widths)-1)
	}
	for total() > width {
		widest := -1
		for i, w := range widths {
			if w > 8 && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return
		}
		widths[widest]--
	}
}

// VisibleLen is the number of terminal columns s takes: runes, without ANSI
// escape sequences.
func VisibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			if r >= 0x40 && r <= 0x7e && r != '[' {
				esc = false
			}
		case r == 0x1b:
			esc = true
		default:
			n++
		}
	}
	return n
}

// Truncate cuts s to at most n visible columns, ending with "…" when cut;
// escape sequences are kept (and a colour reset added) so colour never
// bleeds into the next line.
func Truncate(s string, n int) string {
	if VisibleLen(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	cnt, esc, colored := 0, false, false
	for _, r := range s {
		switch {
		case esc:
			b.WriteRune(r)
			if r >= 0x40 && r <= 0x7e && r != '[' {
				esc = false
			}
			continue
		case r == 0x1b:
			esc, colored = true, true
			b.WriteRune(r)
			continue
		}
		if cnt == n-1 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		cnt++
	}
	if colored {
		b.WriteString(reset)
	}
	return b.String()
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
