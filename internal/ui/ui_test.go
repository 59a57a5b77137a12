package ui

import (
	"bytes"
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
	if len(lines) != 5 {
		t.Fatalf("want one line per event, got %d:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "2026-11-29T10:00:00Z ") {
			t.Fatalf("line without timestamp: %q", l)
		}
	}
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("escape sequences in plain output: %q", out)
	}
	if !strings.Contains(out, "creating (2m0s)") {
		t.Fatalf("wait lines lack elapsed time:\n%s", out)
	}
	if !strings.Contains(out, "+ vpc") {
		t.Fatalf("a create does not start with +, as plan shows it:\n%s", out)
	}
}

func TestProgressTTYRewritesWaitLinesAndColours(t *testing.T) {
	var buf bytes.Buffer
	events(NewProgress(&Streams{Err: &buf, ErrTTY: true, Color: true}, false))
	out := buf.String()
	if !strings.Contains(out, "\r\x1b[2K") {
		t.Fatalf("the live wait line is not rewritten: %q", out)
	}
	if !strings.Contains(out, green) || !strings.Contains(out, red) {
		t.Fatalf("no colour on a colour terminal: %q", out)
	}
	var plain bytes.Buffer
	events(NewProgress(&Streams{Err: &plain, ErrTTY: true, Color: false}, false))
	if strings.Contains(plain.String(), "\x1b[3") {
		t.Fatalf("colour with --no-color: %q", plain.String())
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
