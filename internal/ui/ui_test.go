package ui

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/provision"
)

func events(p *Progress) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	sink := p.Sink()
	sink(provision.Event{Time: at, Node: "vpc", Phase: provision.PhaseStart, Action: "create"})
	sink(provision.Event{Time: at, Node: "redis", Phase: provision.PhaseWait, Message: "creating", Elapsed: 90 * time.Second})
	sink(provision.Event{Time: at, Node: "redis", Phase: provision.PhaseWait, Message: "creating", Elapsed: 120 * time.Second})
	sink(provision.Event{Time: at, Node: "vpc", Phase: provision.PhaseDone, Action: "create", Message: "vpc-1"})
	sink(provision.Event{Time: at, Node: "alb", Phase: provision.PhaseFailed, Message: "boom"})
	p.Finish()
}

func TestProgressPlainIsTimestampedLinesWithoutEscapes(t *testing.T) {
	var buf bytes.Buffer
	events(NewProgress(&Streams{Err: &buf}, false))
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// vpc start, redis creating (once: the second wait is the same state),
	// vpc done, alb failed, the total.
	if len(lines) != 5 || !strings.Contains(lines[4], "total") {
		t.Fatalf("want one line per state change, got %d:\n%s", len(lines), out)
	}
	for _, l := range lines[:4] {
		if !strings.HasPrefix(l, "2026-11-29T10:00:00Z ") {
			t.Fatalf("line without timestamp: %q", l)
		}
	}
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("escape sequences in plain output: %q", out)
	}
	if !strings.Contains(out, "creating (1m30s)") {
		t.Fatalf("wait lines lack elapsed time:\n%s", out)
	}
	if !strings.Contains(out, "+ vpc") {
		t.Fatalf("a create does not start with +, as plan shows it:\n%s", out)
	}
}

func TestProgressPlainNeverRepeatsABlockedRetry(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&Streams{Err: &buf}, false)
	sink := p.Sink()
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	sink(provision.Event{Time: at, Node: "subnet-public-a", Phase: provision.PhaseStart, Action: "delete"})
	for i := 1; i <= 91; i++ {
		sink(provision.Event{Time: at, Node: "subnet-public-a", Phase: provision.PhaseWait,
			Message: "blocked: The subnet has dependencies and cannot be deleted.", Elapsed: time.Duration(i) * 10 * time.Second})
	}
	sink(provision.Event{Time: at.Add(15 * time.Minute), Node: "subnet-public-a", Phase: provision.PhaseDone, Action: "delete"})
	p.Finish()
	out := buf.String()
	if n := strings.Count(out, "blocked:"); n != 1 {
		t.Fatalf("the same blocked state printed %d times:\n%s", n, out)
	}
	if !strings.Contains(out, "deleted in 15m00s") {
		t.Fatalf("completion without its duration:\n%s", out)
	}
}

func TestProgressTerminalLiveLinesCompletionsAndRetries(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	p := NewProgress(&Streams{Err: &buf, ErrTTY: true, ErrColor: true}, false)
	now := at
	p.now = func() time.Time { return now }
	p.start = at
	sink := p.Sink()
	sink(provision.Event{Time: at, Node: "redis", Phase: provision.PhaseStart, Action: "create"})
	sink(provision.Event{Time: at, Node: "alb", Phase: provision.PhaseStart, Action: "create"})
	now = at.Add(4*time.Minute + 10*time.Second)
	sink(provision.Event{Time: now, Node: "redis", Phase: provision.PhaseWait, Message: "creating"})
	screen := render(buf.String())
	if !strings.Contains(screen, "redis") || !strings.Contains(screen, "4m10s") {
		t.Fatalf("no live line with the elapsed time:\n%s", screen)
	}
	for i := 0; i < 13; i++ {
		sink(provision.Event{Time: now, Node: "alb", Phase: provision.PhaseWait, Message: "blocked: dependency"})
	}
	screen = render(buf.String())
	if strings.Count(screen, "blocked: dependency") != 1 || !strings.Contains(screen, "(retry 12)") {
		t.Fatalf("retries not collapsed into one line with a count:\n%s", screen)
	}
	now = at.Add(2*time.Minute + 5*time.Second)
	sink(provision.Event{Time: now, Node: "alb", Phase: provision.PhaseDone, Action: "create", Message: "arn:alb"})
	now = at.Add(10 * time.Minute)
	sink(provision.Event{Time: now, Node: "redis", Phase: provision.PhaseDone, Action: "create"})
	p.Finish()
	screen = render(buf.String())
	want := []string{"✓ alb", "created in 2m05s", "✓ redis", "created in 10m00s", "total 10m00s"}
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Fatalf("final screen lacks %q:\n%s", w, screen)
		}
	}
	if strings.Contains(screen, "creating") {
		t.Fatalf("live lines left on screen after Finish:\n%s", screen)
	}
	if !strings.Contains(buf.String(), green) {
		t.Fatalf("no colour on a colour terminal: %q", buf.String())
	}
}

// render replays what a terminal shows for the escape sequences Progress
// writes: \r, ESC[nA (up n lines), ESC[J (clear to the end), ESC[..m (colour,
// dropped).
func render(out string) string {
	var lines []string
	row := 0
	cur := []rune{}
	flush := func() {
		for len(lines) <= row {
			lines = append(lines, "")
		}
		lines[row] = string(cur)
	}
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\r':
			cur = cur[:0]
		case r == '\n':
			flush()
			row++
			cur = cur[:0]
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			n := 0
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				n = n*10 + int(rs[j]-'0')
				j++
			}
			switch rs[j] {
			case 'A':
				row -= n
				if row < 0 {
					row = 0
				}
				if row < len(lines) {
					cur = []rune(lines[row])
				}
			case 'J':
				if row < len(lines) {
					lines = lines[:row]
				}
				cur = cur[:0]
			}
			i = j
		default:
			cur = append(cur, r)
		}
	}
	if len(cur) > 0 {
		flush()
	}
	return strings.Join(lines, "\n")
}

func TestColourIsDecidedPerStreamAndByNonEmptyNOCOLOR(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	cases := []struct {
		name    string
		tty     bool
		flag    bool
		env     map[string]string
		colored bool
	}{
		{"terminal", true, false, nil, true},
		{"pipe", false, false, nil, false},
		{"--no-color", true, true, nil, false},
		{"NO_COLOR=1", true, false, map[string]string{"NO_COLOR": "1"}, false},
		{"empty NO_COLOR does not disable (no-color.org)", true, false, map[string]string{"NO_COLOR": ""}, true},
		{"TERM=dumb", true, false, map[string]string{"TERM": "dumb"}, false},
	}
	for _, c := range cases {
		if got := ColorFor(c.tty, c.flag, env(c.env)); got != c.colored {
			t.Errorf("%s: colour %v, want %v", c.name, got, c.colored)
		}
	}
	// stdout redirected to a file, stderr on the terminal.
	s := &Streams{OutColor: false, ErrColor: true}
	if s.Good("ok") != "ok" || s.E().Good("ok") == "ok" {
		t.Fatalf("palettes not per stream: out %q err %q", s.Good("ok"), s.E().Good("ok"))
	}
}

func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("/dev/null is a character device, not a terminal")
	}
}

func TestTableFitsTheTerminalWidth(t *testing.T) {
	var buf bytes.Buffer
	rows := [][]string{
		{"target-group-shard-1", "elbv2.target-group", "targetgroup/wbo-shard-1/0123456789abcdef", "ok", "healthy=1/1 shard=1 boards=a-m, %C3-%FF and every other key the catch-all owns"},
		{"vpc", "ec2.vpc", "vpc-0123", "\x1b[32mok\x1b[0m", ""},
	}
	TableWidth(&buf, 80, []string{"RESOURCE", "KIND", "ID", "STATUS", "DETAIL"}, rows)
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if VisibleLen(l) > 80 {
			t.Fatalf("row of %d columns at width 80: %q", VisibleLen(l), l)
		}
	}
	if !strings.Contains(buf.String(), "…") {
		t.Fatalf("a cut cell is not marked: %q", buf.String())
	}
	if !strings.Contains(buf.String(), "\x1b[32mok\x1b[0m") {
		t.Fatalf("a coloured cell that fits was changed: %q", buf.String())
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 125 * time.Second: "2m05s", 3723 * time.Second: "1h02m03s"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestTableAlignsColumns(t *testing.T) {
	var buf bytes.Buffer
	Table(&buf, []string{"A", "BB"}, [][]string{{"xxx", "y"}, {"z", "é"}})
	want := "A    BB\nxxx  y\nz    é\n"
	if buf.String() != want {
		t.Fatalf("got %q want %q", buf.String(), want)
	}
}

func TestShortID(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/wbo-alb/c6ef": "loadbalancer/app/wbo-alb/c6ef",
		"arn:aws:sns:us-east-1:123456789012:wbo-alarms":                                     "wbo-alarms",
		"vpc-0123":   "vpc-0123",
		"arn:broken": "arn:broken",
	} {
		if got := ShortID(in); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", in, got, want)
		}
	}
}

// The whiteboard milestone gets a line of its own, even without -v.
func TestProgressShowsMilestones(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&Streams{Err: &buf}, false)
	p.Sink()(provision.Event{Time: time.Date(2026, 11, 29, 10, 3, 17, 0, time.UTC), Node: provision.MilestoneServing, Phase: provision.PhaseReady,
		Message: "serving at http://wbo-alb.example (6 more resources in progress; up ends when they are done)"})
	if out := buf.String(); !strings.Contains(out, "whiteboard") || !strings.Contains(out, "serving at http://wbo-alb.example (6 more") {
		t.Fatalf("milestone line: %q", out)
	}
}
