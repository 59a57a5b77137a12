package app

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// PlanOptions are plan's own flags.
type PlanOptions struct {
	// DetailedExitCode: exit 0 with no changes, 2 with changes (as Terraform).
	DetailedExitCode bool
}

// PlanDocument is plan's JSON output (schema wbo-deploy.plan/v1).
type PlanDocument struct {
	Schema    string         `json:"schema"`
	Stack     string         `json:"stack"`
	Region    string         `json:"region"`
	Offline   bool           `json:"offline"`
	Summary   map[string]int `json:"summary"`
	Resources []PlanResource `json:"resources"`
	Notes     []string       `json:"notes,omitempty"`
	Cost      string         `json:"cost_estimate,omitempty"`
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

// Plan shows what up would do. Without a state file it works offline, with
// no AWS account: every resource is a create.
func Plan(ctx context.Context, g *Globals, o PlanOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	var st *state.Store
	offline := true
	if _, serr := os.Stat(g.StatePath(cfg)); serr == nil {
		st, err = g.openState(cfg, true)
		if err != nil {
			return err
		}
		defer st.Close()
		offline = !st.Exists()
	}
	env := provision.NewEnv(nil, cfg, st, g.clock(), nil)
	if !offline {
		clients, err := g.Connect(ctx, cfg)
		if err != nil {
			return err
		}
		env = provision.NewEnv(clients, cfg, st, g.clock(), nil)
	}
	eng := &provision.Engine{Graph: provision.Build(cfg), Env: env, Stop: g.Stop}
	res := eng.Plan(ctx, offline)
	if err := res.Err(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	doc := planDocument(cfg, res, offline)
	if g.JSON() {
		if err := ui.JSON(g.IO.Out, doc); err != nil {
			return err
		}
	} else {
		renderPlanText(g.IO.Out, g.IO, cfg, res, !offline)
	}
	if o.DetailedExitCode && planChanges(res) > 0 {
		return &ExitError{Code: 2}
	}
	return nil
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

func planDocument(cfg *config.Config, res *provision.Result, offline bool) PlanDocument {
	doc := PlanDocument{Schema: "wbo-deploy.plan/v1", Stack: cfg.Stack, Region: cfg.Region, Offline: offline,
		Summary: map[string]int{}, Resources: []PlanResource{}}
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

func renderPlanText(w io.Writer, s *ui.Streams, cfg *config.Config, res *provision.Result, online bool) {
	doc := planDocument(cfg, res, !online)
	where := cfg.Region
	if where == "" {
		where = "(region from your AWS profile)"
	}
	if !online {
		fmt.Fprintf(w, "Plan for stack %s in %s (no state yet: computed offline, nothing exists):\n", cfg.Stack, where)
	} else {
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
