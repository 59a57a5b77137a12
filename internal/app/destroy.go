package app

import (
	"context"
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// DestroyOptions are destroy's own flags.
type DestroyOptions struct {
	DeleteData bool
	KeepLogs   bool
	Force      bool
	DryRun     bool
}

// DestroyDocument is destroy's JSON output (schema wbo-deploy.destroy/v1).
type DestroyDocument struct {
	Schema    string        `json:"schema"`
	Stack     string        `json:"stack"`
	Account   string        `json:"account"`
	Region    string        `json:"region"`
	DryRun    bool          `json:"dry_run"`
	OK        bool          `json:"ok"`
	Resources []ResourceRun `json:"resources"`
}

// Destroy deletes the stack: every resource in state and every resource
// tagged for the stack (so a lost or stale state file leaks nothing), in
// reverse dependency order. The board bucket is kept unless DeleteData.
func Destroy(ctx context.Context, g *Globals, o DestroyOptions) error {
	r, err := g.startRun(ctx)
	if err != nil {
		return err
	}
	defer r.st.Close()
	cfg, st, clients, progress, env, eng := r.cfg, r.st, r.clients, r.progress, r.env, r.eng
	env.Destroy = provision.DestroyOptions{DeleteData: o.DeleteData, KeepLogs: o.KeepLogs, Force: o.Force}

	recs, err := destroyTargets(ctx, eng, st)
	if err != nil {
		return err
	}
	doc := DestroyDocument{Schema: "wbo-deploy.destroy/v1", Stack: cfg.Stack, Account: clients.Account, Region: clients.Region,
		DryRun: o.DryRun, Resources: []ResourceRun{}}
	if len(recs) == 0 {
		doc.OK = true
		if err := st.Delete(); err != nil {
			return err
		}
		if g.JSON() {
			return ui.JSON(g.IO.Out, doc)
		}
		fmt.Fprintf(g.IO.Out, "Nothing to destroy: stack %s has no resources in %s (account %s).\n", cfg.Stack, clients.Region, clients.Account)
		return nil
	}
	var del, keep []ResourceRun
	for _, r := range recs {
		rr := ResourceRun{Name: r.Name, Kind: r.Kind, ID: r.ID, Action: string(provision.ActDelete)}
		if k, ok := provision.KindOf(r.Kind); ok {
			if kp, ok := k.(provision.Keeper); ok {
				if why := kp.Keeps(env, r); why != "" {
					rr.Action, rr.Note = string(provision.ActKeep), why
					keep = append(keep, rr)
					continue
				}
			}
		}
		del = append(del, rr)
	}
	if o.DryRun {
		doc.OK = true
		doc.Resources = append(append(doc.Resources, del...), keep...)
		if g.JSON() {
			return ui.JSON(g.IO.Out, doc)
		}
		renderDestroyPreview(g.IO, cfg.Stack, del, keep)
		return nil
	}
	if !g.JSON() || g.IO.InTTY {
		renderDestroyPreview(g.IO, cfg.Stack, del, keep)
	}
	if len(del) > 0 {
		if err := confirmTyped(g, fmt.Sprintf("Destroy stack %s: delete %d resources?", cfg.Stack, len(del)), cfg.Stack); err != nil {
			return err
		}
	}
	progress.Live()
	res := eng.Destroy(ctx, recs)
	progress.Finish()
	doc.Resources = runs(res)
	doc.OK = res.Err() == nil
	if doc.OK {
		if err := st.Delete(); err != nil {
			return fmt.Errorf("remove state file: %w", err)
		}
	}
	if g.JSON() {
		if err := ui.JSON(g.IO.Out, doc); err != nil {
			return err
		}
	} else {
		renderDestroyText(g.IO, doc)
	}
	if err := res.Err(); err != nil {
		if g.interrupted() {
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted: state saved in %s; run `wbo-deploy destroy` again to finish", st.Path())}
		}
		return err
	}
	return nil
}

// destroyTargets is the union of the state and the stack's tagged resources.
func destroyTargets(ctx context.Context, eng *provision.Engine, st *state.Store) ([]state.Resource, error) {
	recs := st.All()
	found, err := eng.Discover(ctx)
	if err != nil {
		return nil, err
	}
	return provision.Merge(recs, found), nil
}

func renderDestroyPreview(s *ui.Streams, stack string, del, keep []ResourceRun) {
	w := s.Err
	fmt.Fprintf(w, "Destroying stack %s will delete %d resources:\n", stack, len(del))
	var rows [][]string
	for _, r := range del {
		rows = append(rows, []string{s.E().Bad("-"), r.Name, r.Kind, ui.ShortID(r.ID)})
	}
	ui.TableWidth(w, s.ErrWidth, []string{"", "RESOURCE", "KIND", "ID"}, rows)
	if len(keep) > 0 {
		fmt.Fprintln(w, "and keep:")
		rows = nil
		for _, r := range keep {
			rows = append(rows, []string{s.E().Good("="), r.Name, r.Kind, ui.ShortID(r.ID) + ": " + r.Note})
		}
		ui.TableWidth(w, s.ErrWidth, []string{"", "RESOURCE", "KIND", "WHY"}, rows)
	}
}

func renderDestroyText(s *ui.Streams, doc DestroyDocument) {
	deleted, kept := 0, 0
	for _, r := range doc.Resources {
		switch {
		case r.Error != "":
		case r.Action == string(provision.ActKeep):
			kept++
		default:
			deleted++
		}
	}
	if !doc.OK {
		fmt.Fprintln(s.Err, s.E().Bad("destroy did not complete:"))
		for _, r := range doc.Resources {
			if r.Error != "" {
				fmt.Fprintf(s.Err, "  %s (%s %s): %s\n", r.Name, r.Kind, r.ID, r.Error)
			}
		}
		fmt.Fprintln(s.Err, "State is saved; run `wbo-deploy destroy` again to finish.")
		return
	}
	fmt.Fprintf(s.Out, "%s stack %s destroyed: %d deleted, %d kept.\n", s.Good("Done:"), doc.Stack, deleted, kept)
	for _, r := range doc.Resources {
		if r.Action == string(provision.ActKeep) {
			fmt.Fprintf(s.Out, "Kept: %s (%s)\n", r.ID, r.Note)
		}
	}
}
