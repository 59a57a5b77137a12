package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/probe"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// UpOptions are up's own flags.
type UpOptions struct {
	AllowReplace bool
	NoWait       bool
	NoProbe      bool // skip checking the whiteboard through its URL at the end
}

// Up deploys or converges the stack.
func Up(ctx context.Context, g *Globals, o UpOptions) error {
	r, err := g.startRun(ctx, "up")
	if err != nil {
		return err
	}
	defer r.st.Close()
	cfg, st, clients, progress, eng := r.cfg, r.st, r.clients, r.progress, r.eng
	r.env.AllowReplace, r.env.NoWait = o.AllowReplace, o.NoWait

	// The plan first: what will change, and a confirmation when something
	// will be replaced or deleted.
	// Without a state the stack is looked up by its tags and names, as up
	// itself finds it: what exists is shown (and then recorded) as adopted.
	plan := eng.Plan(ctx, false)
	if err := plan.Err(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if !g.JSON() {
		view := planView{source: SourceState}
		if !st.Exists() {
			view.source = SourceTags
		}
		renderPlanText(g.IO.Err, g.IO, cfg, plan, view)
	}
	// Consent, as terraform apply asks it: any change needs a yes (--yes in
	// scripts); one that replaces, deletes or disrupts needs the stack's
	// name typed.
	if n := destructive(plan); n > 0 {
		if o.AllowReplace || !hasReplace(plan) {
			if err := confirmTyped(g, fmt.Sprintf("%d resources will be replaced, deleted or disrupted (see the plan above).", n), cfg.Stack); err != nil {
				return err
			}
		} else {
			for _, r := range plan.Nodes {
				if r.Action == provision.ActReplace {
					for _, c := range r.Changes {
						if c.Replace {
							return &ExitError{Code: ExitFailure, Err: &provision.ReplaceError{Node: r.Name, Change: c}}
						}
					}
				}
			}
		}
	} else if planChanges(plan) > 0 {
		if err := confirm(g, "Apply the plan above?"); err != nil {
			return err
		}
	}
	if o.AllowReplace && hasReplace(plan) {
		var names []string
		for _, r := range plan.Nodes {
			if r.Action == provision.ActReplace {
				names = append(names, r.Name)
			}
		}
		fmt.Fprintf(g.IO.Err, "replacing %s (and what depends on it)\n", strings.Join(names, ", "))
		if rres := eng.Replace(ctx, names); rres.Err() != nil {
			progress.Finish()
			return fmt.Errorf("replace: %w", rres.Err())
		}
	}
	progress.Live()
	res := eng.Up(ctx)
	progress.Finish()
	out := upDocument(cfg, clients.Account, clients.Region, res, st)
	var dns *provision.DNSRecordsNeeded
	if errors.As(res.Err(), &dns) {
		out.DNSRecords = dns.Records
	}
	if res.Err() == nil && !o.NoWait && !o.NoProbe {
		out.Probe = g.probeAfterUp(ctx, cfg, r.env, out.URL)
	}
	if g.JSON() {
		if err := ui.JSON(g.IO.Out, out); err != nil {
			return err
		}
	} else {
		renderUpText(g.IO, out)
		renderProbe(g.IO, g.IO.Out, out.Probe)
	}
	if err := res.Err(); err != nil {
		var dns *provision.DNSRecordsNeeded
		if errors.As(err, &dns) {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("up is waiting for the DNS records of %s shown above: run it again once they are created at your DNS provider", dns.Domain)}
		}
		if g.interrupted() {
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted: state saved in %s; run `wbo-deploy up` again to finish", st.Path())}
		}
		return err
	}
	return probeError(out.Probe)
}

// destructive counts the resources whose change needs the user's consent:
// replacements, deletions, and disruptive updates such as a re-shard (every
// shard stops while board ownership moves).
func destructive(plan *provision.Result) int {
	n := 0
	for _, r := range plan.Nodes {
		if r.Action == provision.ActReplace || r.Action == provision.ActDelete {
			n++
			continue
		}
		for _, c := range r.Changes {
			if c.Disruptive || c.Field == "re-shard" {
				n++
				break
			}
		}
	}
	return n
}

func hasReplace(plan *provision.Result) bool {
	for _, r := range plan.Nodes {
		if r.Action == provision.ActReplace {
			return true
		}
	}
	return false
}

// confirm asks [y/N] on a terminal; without one it requires --yes (exit 2).
func confirm(g *Globals, what string) error {
	if g.Yes {
		return nil
	}
	if !g.IO.InTTY {
		return notATerminal(what)
	}
	fmt.Fprintf(g.IO.Err, "%s Proceed? [y/N] ", what)
	line, _ := bufio.NewReader(g.IO.In).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
		return nil
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("cancelled: nothing was changed")}
}

// confirmTyped asks for the stack's name to be typed (a bare y is too easy
// to give by reflex for what cannot be undone); without a terminal it
// requires --yes (exit 2).
func confirmTyped(g *Globals, what, stack string) error {
	if g.Yes {
		return nil
	}
	if !g.IO.InTTY {
		return notATerminal(what)
	}
	fmt.Fprintf(g.IO.Err, "%s\nType the stack name (%s) to proceed: ", what, stack)
	line, _ := bufio.NewReader(g.IO.In).ReadString('\n')
	if strings.TrimSpace(line) == stack {
		return nil
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("cancelled: %q is not the stack name %q; nothing was changed", strings.TrimSpace(line), stack)}
}

func notATerminal(what string) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s Standard input is not a terminal: pass --yes to proceed", what)}
}

// UpDocument is up's JSON output (schema wbo-deploy.up/v1).
type UpDocument struct {
	Schema    string        `json:"schema"`
	Stack     string        `json:"stack"`
	Account   string        `json:"account"`
	Region    string        `json:"region"`
	OK        bool          `json:"ok"`
	URL       string        `json:"url,omitempty"`
	Resources []ResourceRun `json:"resources"`
	Probe     *probe.Report `json:"probe,omitempty"`
	// DNSRecords are the records to create at the user's DNS provider
	// when no Route 53 zone holds domain.name; up finishes once they
	// resolve.
	DNSRecords []provision.DNSRecord `json:"dns_records,omitempty"`
}

// ResourceRun is one resource's outcome in up and destroy documents.
type ResourceRun struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	ID      string   `json:"id,omitempty"`
	Action  string   `json:"action"`
	Changes []string `json:"changes,omitempty"`
	Note    string   `json:"note,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func runs(res *provision.Result) []ResourceRun {
	out := []ResourceRun{}
	for _, r := range res.Nodes {
		rr := ResourceRun{Name: r.Name, Kind: r.Kind, ID: r.ID, Action: string(r.Action), Note: r.Note}
		for _, c := range r.Changes {
			rr.Changes = append(rr.Changes, c.String())
		}
		if r.Err != nil {
			rr.Error = r.Err.Error()
		}
		out = append(out, rr)
	}
	return out
}

func upDocument(cfg *config.Config, account, region string, res *provision.Result, st *state.Store) UpDocument {
	doc := UpDocument{Schema: "wbo-deploy.up/v1", Stack: cfg.Stack, Account: account, Region: region,
		OK: res.Err() == nil, Resources: runs(res)}
	doc.URL = stackURL(cfg, st.All())
	return doc
}

// stackURL is the whiteboard's URL: https on domain.name, else the load
// balancer's, from its state record.
func stackURL(cfg *config.Config, recs []state.Resource) string {
	if d := cfg.DomainName(); d != "" && len(recs) > 0 {
		return "https://" + d
	}
	for _, r := range recs {
		if r.Name == "alb" && r.Attrs["dns_name"] != "" {
			if cfg.HTTPS() {
				return "https://" + r.Attrs["dns_name"]
			}
			return "http://" + r.Attrs["dns_name"]
		}
	}
	return ""
}

func renderUpText(s *ui.Streams, doc UpDocument) {
	counts := map[string]int{}
	for _, r := range doc.Resources {
		counts[r.Action]++
	}
	if len(doc.DNSRecords) > 0 {
		renderDNSRecords(s, doc.DNSRecords)
		return
	}
	if !doc.OK {
		fmt.Fprintln(s.Err, s.E().Bad("up did not complete:"))
		for _, r := range doc.Resources {
			if r.Error != "" && !strings.Contains(r.Error, "skipped") {
				fmt.Fprintf(s.Err, "  %s (%s): %s\n", r.Name, r.Kind, r.Error)
			}
		}
		return
	}
	fmt.Fprintf(s.Out, "%s stack %s in %s (account %s): %d created, %d adopted, %d updated, %d deleted, %d unchanged\n",
		s.Good("Done:"), doc.Stack, doc.Region, doc.Account, counts["create"], counts["adopt"], counts["update"], counts["delete"], counts["no-op"])
	if doc.URL != "" {
		fmt.Fprintf(s.Out, "URL: %s\n", doc.URL)
	}
}

// renderDNSRecords shows the records to create at the user's DNS provider
// (standard output: it is what the user acts on, and a script can keep it).
func renderDNSRecords(s *ui.Streams, recs []provision.DNSRecord) {
	fmt.Fprintln(s.Out, s.Warn("Waiting for DNS:")+" no Route 53 zone of this account holds the domain. Create these records at your DNS provider, then run `wbo-deploy up` again:")
	var rows [][]string
	for _, r := range recs {
		rows = append(rows, []string{r.Name, r.Type, r.Value})
	}
	ui.TableWidth(s.Out, s.Width, []string{"NAME", "TYPE", "VALUE"}, rows)
	for _, r := range recs {
		fmt.Fprintf(s.Out, "  %s %s: %s\n", r.Name, r.Type, r.Why)
	}
	fmt.Fprintln(s.Out, "The certificate is issued minutes after the validation record resolves; `wbo-deploy status` shows what is still missing.")
}
