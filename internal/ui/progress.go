package ui

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/provision"
)

// Progress renders engine events on stderr.
//
// On a terminal it keeps one live line per resource in progress at the
// bottom ("+ redis  creating  4m10s"), redrawn in place, and prints a
// permanent line when a resource finishes ("✓ alb  created in 2m05s");
// repeated waits on the same condition (a dependency that blocks a delete,
// say) update that resource's live line with a retry count instead of
// printing it again. In pipes and CI it prints one timestamped line per state
// change and never the same state twice for a resource.
type Progress struct {
	s       *Streams
	verbose bool
	now     func() time.Time

	mu      sync.Mutex
	start   time.Time
	active  map[string]*activity
	last    map[string]string // pipe: the last state printed per resource
	drawn   int               // live lines on screen (terminal)
	changed bool              // anything but checks happened
	ticker  *time.Ticker
	quit    chan struct{}
}

type activity struct {
	node, action, status string
	started              time.Time
	retries              int
}

// NewProgress makes a renderer.
func NewProgress(s *Streams, verbose bool) *Progress {
	return &Progress{s: s, verbose: verbose, now: time.Now, start: time.Now(),
		active: map[string]*activity{}, last: map[string]string{}}
}

// Sink returns the engine's event sink.
func (p *Progress) Sink() provision.Sink { return p.handle }

// Live starts redrawing the live lines every second so elapsed times move
// while nothing else happens (terminal only). Finish stops it.
func (p *Progress) Live() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.s.ErrTTY || p.ticker != nil {
		return
	}
	p.ticker, p.quit = time.NewTicker(time.Second), make(chan struct{})
	go func(t *time.Ticker, quit chan struct{}) {
		for {
			select {
			case <-t.C:
				p.mu.Lock()
				p.redraw(nil)
				p.mu.Unlock()
			case <-quit:
				return
			}
		}
	}(p.ticker, p.quit)
}

var gerund = map[string]string{"create": "creating", "update": "updating", "delete": "deleting", "keep": "keeping", "adopt": "adopting"}
var past = map[string]string{"create": "created", "update": "updated", "delete": "deleted", "keep": "kept", "adopt": "adopted", "no-op": "unchanged", "replace": "replaced"}

func (p *Progress) sym(action string) string {
	e := p.s.E()
	switch action {
	case "create":
		return e.Good("+")
	case "delete":
		return e.Bad("-")
	case "keep":
		return e.Good("=")
	default:
		return e.Warn("~")
	}
}

func (p *Progress) handle(ev provision.Event) {
	if ev.Time.IsZero() {
		ev.Time = p.now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s.ErrTTY {
		p.terminal(ev)
		return
	}
	p.plain(ev)
}

// plain: one timestamped line per state change.
func (p *Progress) plain(ev provision.Event) {
	line, state := p.plainLine(ev)
	if line == "" {
		return
	}
	if state != "" {
		if p.last[ev.Node] == state {
			return
		}
		p.last[ev.Node] = state
	}
	p.changed = p.changed || ev.Action != "" || ev.Phase != provision.PhaseStart
	fmt.Fprintf(p.s.Err, "%s %s\n", ev.Time.UTC().Format(time.RFC3339), line)
}

func (p *Progress) plainLine(ev provision.Event) (line, state string) {
	who := ev.Node
	switch ev.Phase {
	case provision.PhaseStart:
		if ev.Action == "" {
			if !p.verbose {
				return "", ""
			}
			return fmt.Sprintf("  %-22s checking", who), ""
		}
		p.begin(ev)
		msg := ev.Action
		if ev.Message != "" {
			msg += ": " + ev.Message
		}
		return fmt.Sprintf("%s %-22s %s", p.sym(ev.Action), who, msg), "start " + msg
	case provision.PhaseWait:
		st := waitState(ev.Message)
		if a := p.active[who]; a != nil && a.status == st {
			a.retries++
		} else if a != nil {
			a.status = st
		}
		return fmt.Sprintf("%s %-22s %s", p.s.E().Dim("…"), who, withElapsed(ev)), "wait " + st
	case provision.PhaseDone:
		if ev.Action == "no-op" && !p.verbose {
			delete(p.active, who)
			return "", ""
		}
		return fmt.Sprintf("%s %-22s %s", p.s.E().Good("✓"), who, p.doneText(ev)), ""
	case provision.PhaseFailed:
		delete(p.active, who)
		return fmt.Sprintf("%s %-22s %s", p.s.E().Bad("✗"), who, ev.Message), ""
	case provision.PhaseReady:
		return fmt.Sprintf("%s %-22s %s", p.s.E().Good("★"), who, ev.Message), ""
	case provision.PhaseSkipped:
		return fmt.Sprintf("%s %-22s skipped (%s)", p.s.E().Warn("-"), who, ev.Message), ""
	default:
		return fmt.Sprintf("  %-22s %s", who, ev.Message), ""
	}
}

// waitState is a wait message without the figures that change while the
// same condition holds (elapsed times, counts), so a repeated wait on one
// condition is recognised as the same state.
func waitState(msg string) string {
	if i := strings.Index(msg, " ("); i > 0 && strings.Contains(msg[i:], "elapsed") {
		msg = msg[:i]
	}
	return msg
}

func withElapsed(ev provision.Event) string {
	if ev.Elapsed <= 0 || strings.Contains(ev.Message, "elapsed") {
		return ev.Message
	}
	return fmt.Sprintf("%s (%s)", ev.Message, Duration(ev.Elapsed))
}

func (p *Progress) begin(ev provision.Event) {
	if a := p.active[ev.Node]; a != nil {
		// create then converge, or a retried step: one resource, one clock.
		if ev.Action != "update" || a.action != "create" {
			a.action = ev.Action
		}
		a.status = ""
		return
	}
	p.active[ev.Node] = &activity{node: ev.Node, action: ev.Action, started: ev.Time}
}

func (p *Progress) doneText(ev provision.Event) string {
	a := p.active[ev.Node]
	delete(p.active, ev.Node)
	verb := past[ev.Action]
	if verb == "" {
		verb = ev.Action
	}
	msg := verb
	if a != nil && ev.Action != "no-op" && ev.Action != "adopt" {
		msg += " in " + Duration(ev.Time.Sub(a.started))
	}
	if ev.Message != "" {
		msg += " " + p.s.E().Dim(ev.Message)
	}
	return msg
}

// terminal: permanent lines above, live lines below.
func (p *Progress) terminal(ev provision.Event) {
	who := ev.Node
	var perm string
	switch ev.Phase {
	case provision.PhaseStart:
		if ev.Action == "" {
			return
		}
		p.changed = true
		p.begin(ev)
	case provision.PhaseWait:
		a := p.active[who]
		if a == nil {
			a = &activity{node: who, action: "", started: ev.Time.Add(-ev.Elapsed)}
			p.active[who] = a
		}
		st := waitState(ev.Message)
		if a.status == st {
			a.retries++
		} else {
			a.status, a.retries = st, 0
		}
	case provision.PhaseDone:
		if ev.Action == "no-op" && !p.verbose {
			delete(p.active, who)
			break
		}
		p.changed = true
		perm = fmt.Sprintf("%s %-22s %s", p.s.E().Good("✓"), who, p.doneText(ev))
	case provision.PhaseFailed:
		delete(p.active, who)
		perm = fmt.Sprintf("%s %-22s %s", p.s.E().Bad("✗"), who, ev.Message)
	case provision.PhaseReady:
		perm = fmt.Sprintf("%s %-22s %s", p.s.E().Good("★"), who, ev.Message)
	case provision.PhaseSkipped:
		delete(p.active, who)
		perm = fmt.Sprintf("%s %-22s skipped (%s)", p.s.E().Warn("-"), who, ev.Message)
	default:
		perm = fmt.Sprintf("  %-22s %s", who, ev.Message)
	}
	var lines []string
	if perm != "" {
		lines = append(lines, perm)
	}
	p.redraw(lines)
}

// redraw erases the live lines, prints perm lines, then the live lines again.
func (p *Progress) redraw(perm []string) {
	var b strings.Builder
	if p.drawn > 0 {
		// Up to the first live line, then clear to the end of the screen.
		fmt.Fprintf(&b, "\r\x1b[%dA\x1b[J", p.drawn)
	}
	for _, l := range perm {
		b.WriteString(p.fit(l))
		b.WriteByte('\n')
	}
	live := p.liveLines()
	for _, l := range live {
		b.WriteString(p.fit(l))
		b.WriteByte('\n')
	}
	p.drawn = len(live)
	if b.Len() > 0 {
		fmt.Fprint(p.s.Err, b.String())
	}
}

func (p *Progress) liveLines() []string {
	acts := make([]*activity, 0, len(p.active))
	for _, a := range p.active {
		acts = append(acts, a)
	}
	sort.Slice(acts, func(i, j int) bool {
		if !acts[i].started.Equal(acts[j].started) {
			return acts[i].started.Before(acts[j].started)
		}
		return acts[i].node < acts[j].node
	})
	now := p.now()
	var out []string
	for _, a := range acts {
		st := a.status
		if st == "" {
			st = gerund[a.action]
			if st == "" {
				st = "working"
			}
		}
		if a.retries > 0 {
			st += fmt.Sprintf(" (retry %d)", a.retries)
		}
		out = append(out, fmt.Sprintf("%s %-22s %s  %s", p.sym(a.action), a.node, st, p.s.E().Dim(Duration(now.Sub(a.started)))))
	}
	return out
}

// fit truncates a line to the terminal's width so a live line never wraps
// (a wrapped line would break the redraw).
func (p *Progress) fit(l string) string {
	if p.s.ErrWidth <= 0 {
		return l
	}
	return Truncate(l, p.s.ErrWidth-1)
}

// Finish ends the live display and prints the total time when anything
// changed.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ticker != nil {
		p.ticker.Stop()
		close(p.quit)
		p.ticker = nil
	}
	if p.s.ErrTTY {
		p.active = map[string]*activity{}
		p.redraw(nil)
	}
	if p.changed {
		total := "total " + Duration(p.now().Sub(p.start))
		if p.s.ErrTTY {
			fmt.Fprintln(p.s.Err, p.s.E().Dim(total))
		} else {
			fmt.Fprintf(p.s.Err, "%s %s\n", p.now().UTC().Format(time.RFC3339), total)
		}
		p.changed = false
	}
}

// Duration formats d as Terraform does: 45s, 2m05s, 1h02m03s.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}
