package app

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// PlanOptions are plan's own flags.
type PlanOptions struct {
	// DetailedExitCode: exit 0 with no changes, 2 with changes (as Terraform).
	DetailedExitCode bool
	// Offline: do not call AWS; every resource is shown as a create.
	Offline bool
}

// Where a plan's view of the stack comes from (PlanDocument.Source).
const (
	SourceState   = "state"   // the state, checked against AWS
	SourceTags    = "tags"    // no state: the stack looked up in AWS by its tags and names
	SourceOffline = "offline" // AWS not consulted
)

// PlanDocument is plan's JSON output (schema wbo-deploy.plan/v1).
type PlanDocument struct {
	Schema  string `json:"schema"`
	Stack   string `json:"stack"`
	Region  string `json:"region"`
	Offline bool   `json:"offline"`
	// Source is "state", "tags" (no state: looked up in AWS) or "offline".
	Source string `json:"source"`
	// OfflineReason says why AWS was not consulted (offline plans only).
	OfflineReason string         `json:"offline_reason,omitempty"`
	Summary       map[string]int `json:"summary"`
	Resources     []PlanResource `json:"resources"`
	Notes         []string       `json:"notes,omitempty"`
	Cost          string         `json:"cost_estimate,omitempty"`
}

// PlanResource is one resource in a plan.
type PlanResource struct {
	Name    string       `json:"name"`
	Kind    string       `json:"kind"`
	ID      string       `json:"id,omitempty"`
	Action  string       `json:"action"`
	Changes []PlanChange `json:"changes,omitempty"`
	Note    string       `json:"note,omitempty"`
}

// PlanChange is one field change.
type PlanChange struct {
	Field   string `json:"field"`
	Old     string `json:"old"`
	New     string `json:"new"`
	Replace bool   `json:"replace,omitempty"`
	Why     string `json:"why,omitempty"`
}

// Plan shows what up would do. With credentials it looks the stack up in
// AWS, through the state or, without one, by the stack's tags and names (as
// up and destroy find it); it is offline, listing every resource as a create,
// only with --offline or when AWS cannot be asked at all (no region or no
// credentials), and then says so.
func Plan(ctx context.Context, g *Globals, o PlanOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if err := g.checkStateFlags(cfg); err != nil {
		return err
	}
	view := planView{source: SourceState}
	var st *state.Store
	var clients *awsclients.Clients
	if o.Offline {
		view = planView{source: SourceOffline, reason: "--offline"}
	} else {
		clients, err = g.Connect(ctx, cfg)
		if err != nil {
			why := noAccess(err)
			if why == "" {
				return err
			}
			// A local state file says resources exist: comparing it with
			// AWS needs credentials, and an offline plan would mislead.
			if _, serr := os.Stat(g.StatePath(cfg)); serr == nil && !remoteState(cfg) {
				return err
			}
			view = planView{source: SourceOffline, reason: why}
		} else {
			st, err = g.readState(ctx, cfg, "plan")
			if err != nil {
				return err
			}
			if st != nil {
				defer st.Close()
				if err := checkBinding(st, clients); err != nil {
					return err
				}
			} else {
				view.source = SourceTags
			}
		}
	}
	offline := view.source == SourceOffline
	env := provision.NewEnv(clients, cfg, st, g.clock(), nil)
	eng := &provision.Engine{Graph: provision.Build(cfg), Env: env, Stop: g.Stop}
	res := eng.Plan(ctx, offline)
	if err := res.Err(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	doc := planDocument(cfg, res, view)
	if g.JSON() {
		if err := ui.JSON(g.IO.Out, doc); err != nil {
			return err
		}
	} else {
		renderPlanText(g.IO.Out, g.IO, cfg, res, view)
	}
	if o.DetailedExitCode && planChanges(res) > 0 {
		return &ExitError{Code: 2}
	}
	return nil
}

// planView is where a plan's picture of the stack comes from.
type planView struct {
	source string // SourceState, SourceTags, SourceOffline
	reason string // why offline
}

func planChanges(res *provision.Result) int {
	n := 0
	for _, r := range res.Nodes {
		if r.Action != provision.ActNoop {
			n++
		}
	}
	return n
}

// PlanNotes are the facts a user should weigh before deploying this config.
var PlanNotes []func(cfg *config.Config) string

func planDocument(cfg *config.Config, res *provision.Result, view planView) PlanDocument {
	doc := PlanDocument{Schema: "wbo-deploy.plan/v1", Stack: cfg.Stack, Region: cfg.Region, Offline: view.source == SourceOffline,
		Source: view.source, OfflineReason: view.reason, Summary: map[string]int{}, Resources: []PlanResource{}}
	for _, a := range []provision.Action{provision.ActCreate, provision.ActAdopt, provision.ActUpdate, provision.ActReplace, provision.ActDelete, provision.ActNoop} {
		doc.Summary[string(a)] = 0
	}
	for _, r := range res.Nodes {
		pr := PlanResource{Name: r.Name, Kind: r.Kind, ID: r.ID, Action: string(r.Action), Note: r.Note}
		for _, c := range r.Changes {
			pr.Changes = append(pr.Changes, PlanChange{Field: c.Field, Old: c.Old, New: c.New, Replace: c.Replace, Why: c.Why})
		}
		doc.Summary[string(r.Action)]++
		doc.Resources = append(doc.Resources, pr)
	}
	for _, f := range PlanNotes {
		if s := f(cfg); s != "" {
			doc.Notes = append(doc.Notes, s)
		}
	}
	doc.Cost = costSummary(cfg)
	return doc
}

func renderPlanText(w io.Writer, s *ui.Streams, cfg *config.Config, res *provision.Result, view planView) {
	doc := planDocument(cfg, res, view)
	where := cfg.Region
	if where == "" {
		where = "(region from your AWS profile)"
	}
	switch view.source {
	case SourceOffline:
		fmt.Fprintf(w, "Plan for stack %s in %s, OFFLINE (%s): AWS was not consulted, so nothing is known of what already exists and every resource is listed as a create. With credentials (and without --offline) plan shows the real changes.\n", cfg.Stack, where, view.reason)
	case SourceTags:
		fmt.Fprintf(w, "Plan for stack %s in %s (no state: the stack was looked up in AWS by its tags and names; what exists is adopted):\n", cfg.Stack, where)
	default:
		fmt.Fprintf(w, "Plan for stack %s in %s:\n", cfg.Stack, where)
	}
	pal := s.O()
	if w == s.Err {
		pal = s.E()
	}
	sym := map[string]string{"create": pal.Good("+"), "adopt": pal.Good("<"), "update": pal.Warn("~"), "replace": pal.Bad("-/+"), "delete": pal.Bad("-"), "no-op": " "}
	for _, r := range doc.Resources {
		if r.Action == "no-op" {
			continue
		}
		line := fmt.Sprintf("  %s %-24s %-30s %s", sym[r.Action], r.Name, r.Kind, r.Action)
		if r.Note != "" {
			line += pal.Dim("  (" + r.Note + ")")
		}
		fmt.Fprintln(w, line)
		for _, c := range r.Changes {
			ch := fmt.Sprintf("        %s: %s → %s", c.Field, c.Old, c.New)
			if c.Replace {
				ch += pal.Bad("  (forces replacement: " + c.Why + ")")
			}
			fmt.Fprintln(w, ch)
		}
	}
	sm := doc.Summary
	fmt.Fprintf(w, "Plan: %d to create, %d to adopt, %d to update, %d to replace, %d to delete, %d unchanged.\n",
		sm["create"], sm["adopt"], sm["update"], sm["replace"], sm["delete"], sm["no-op"])
	if doc.Cost != "" {
		fmt.Fprintln(w, doc.Cost)
	}
	for _, n := range doc.Notes {
		fmt.Fprintln(w, "Note: "+n)
	}
}
