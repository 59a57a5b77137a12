package app

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// StatusOptions are status's own flags.
type StatusOptions struct {
	// WaitHealthy polls until healthy or this much time passed (0 = once).
	WaitHealthy time.Duration
}

// StatusDocument is status's JSON output, schema wbo-deploy.status/v1
// (docs/json.md). Fields are only added within a schema version.
type StatusDocument struct {
	Schema       string                     `json:"schema"`
	Stack        string                     `json:"stack"`
	Account      string                     `json:"account,omitempty"`
	Region       string                     `json:"region"`
	Deployed     bool                       `json:"deployed"`
	Healthy      bool                       `json:"healthy"`
	Source       string                     `json:"source"` // "state" or "tags" (no state file)
	URL          string                     `json:"url,omitempty"`
	DashboardURL string                     `json:"dashboard_url,omitempty"`
	Summary      map[string]int             `json:"summary"`
	Resources    []provision.ResourceStatus `json:"resources"`
	// Backups: each shard's recovery point (recovery.go); a stale one
	// makes the stack unhealthy.
	Backups []BackupStatus `json:"backups,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
}

// Status reports every resource and the application's health. Exit 0
// healthy, 3 degraded or drifted, 4 not deployed.
func Status(ctx context.Context, g *Globals, o StatusOptions) error {
	if o.WaitHealthy < 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--wait-healthy: %s is negative; give how long to wait, such as 10m", o.WaitHealthy)}
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	var st *state.Store
	if _, serr := os.Stat(g.StatePath(cfg)); serr == nil {
		st, err = g.openState(cfg, true)
		if err != nil {
			return err
		}
		defer st.Close()
	}
	clients, err := g.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	if st != nil && st.Account() != "" && (st.Account() != clients.Account || st.Region() != clients.Region) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("state %s belongs to account %s in %s, but the credentials are for account %s in %s",
			st.Path(), st.Account(), st.Region(), clients.Account, clients.Region)}
	}
	env := provision.NewEnv(clients, cfg, st, g.clock(), nil)
	eng := &provision.Engine{Graph: provision.Build(cfg), Env: env, Stop: g.Stop}
	deadline := time.Now().Add(env.Clock.Wall(o.WaitHealthy))
	for {
		doc, err := statusOnce(ctx, g, cfg, eng, st, clients.Account, clients.Region)
		if err != nil {
			return err
		}
		done := !doc.Deployed || doc.Healthy || o.WaitHealthy == 0 || time.Now().After(deadline) || g.interrupted()
		if done {
			if g.JSON() {
				if err := ui.JSON(g.IO.Out, doc); err != nil {
					return err
				}
			} else {
				renderStatusText(g.IO, doc)
			}
			switch {
			case !doc.Deployed:
				return &ExitError{Code: ExitNotDeployed}
			case !doc.Healthy:
				return &ExitError{Code: ExitDegraded}
			}
			return nil
		}
		fmt.Fprintf(g.IO.Err, "waiting for the stack to become healthy: %s\n", unhealthySummary(doc))
		if err := env.Clock.Sleep(ctx, 10*time.Second); err != nil {
			return err
		}
	}
}

func unhealthySummary(doc StatusDocument) string {
	var parts []string
	for _, r := range doc.Resources {
		if r.Status != provision.StatusOK {
			parts = append(parts, r.Name+" "+r.Status)
		}
	}
	for _, b := range doc.Backups {
		if b.Stale {
			parts = append(parts, fmt.Sprintf("shard %d recovery point stale", b.Shard))
		}
	}
	return strings.Join(parts, ", ")
}

func statusOnce(ctx context.Context, g *Globals, cfg *config.Config, eng *provision.Engine, st *state.Store, account, region string) (StatusDocument, error) {
	doc := StatusDocument{Schema: "wbo-deploy.status/v1", Stack: cfg.Stack, Account: account, Region: region,
		Summary: map[string]int{}, Resources: []provision.ResourceStatus{}, Source: "state"}
	var recs []state.Resource
	if st != nil {
		recs = st.All()
	}
	if len(recs) == 0 {
		found, err := eng.Discover(ctx)
		if err != nil {
			return doc, err
		}
		recs, doc.Source = nil, "tags"
		// Data kept by an earlier destroy (the board bucket) does not make
		// a deployment.
		for _, r := range found {
			if why := keptOnDestroy(eng.Env, r); why != "" {
				doc.Notes = append(doc.Notes, fmt.Sprintf("%s %s exists, kept by an earlier destroy; `wbo-deploy up` adopts it", r.Kind, r.ID))
				continue
			}
			recs = append(recs, r)
		}
		if len(recs) > 0 {
			recs = found
			doc.Notes = append(doc.Notes, "no state file: these resources were found by their wbo-deploy:stack tag; `wbo-deploy up` adopts them")
		}
	}
	if len(recs) == 0 {
		return doc, nil
	}
	doc.Deployed = true
	doc.Resources = eng.Status(ctx, recs)
	// Resources the configuration has but neither state nor AWS knows.
	have := map[string]bool{}
	for _, r := range recs {
		have[r.Name] = true
	}
	for _, n := range eng.Graph.Nodes() {
		if !have[n.Name] {
			doc.Resources = append(doc.Resources, provision.ResourceStatus{Name: n.Name, Kind: n.Kind, Status: provision.StatusMissing, Reason: "not created yet (run up)"})
		}
	}
	sort.SliceStable(doc.Resources, func(i, j int) bool { return doc.Resources[i].Name < doc.Resources[j].Name })
	doc.Healthy = true
	for _, r := range doc.Resources {
		doc.Summary[r.Status]++
		if r.Status != provision.StatusOK {
			doc.Healthy = false
		}
		if u := r.Info["url"]; u != "" {
			doc.URL = u
		}
		if u := r.Info["dashboard_url"]; u != "" {
			doc.DashboardURL = u
		}
	}
	if doc.URL == "" {
		doc.URL = stackURL(cfg, recs)
	}
	doc.Backups = recoveryPoints(ctx, cfg, eng.Env.AWS, time.Now())
	for _, b := range doc.Backups {
		doc.Healthy = doc.Healthy && !b.Stale
	}
	for _, f := range PlanNotes {
		if s := f(cfg); s != "" {
			doc.Notes = append(doc.Notes, s)
		}
	}
	return doc, nil
}

func renderStatusText(s *ui.Streams, doc StatusDocument) {
	w := s.Out
	if !doc.Deployed {
		fmt.Fprintf(w, "Stack %s is not deployed in %s (no state file and nothing tagged wbo-deploy:stack=%s).\n", doc.Stack, doc.Region, doc.Stack)
		return
	}
	var rows [][]string
	for _, r := range doc.Resources {
		st := r.Status
		switch st {
		case provision.StatusOK:
			st = s.Good(st)
		case provision.StatusCreating:
			st = s.Warn(st)
		default:
			st = s.Bad(st)
		}
		detail := r.Reason
		if len(r.Info) > 0 {
			var keys []string
			for k := range r.Info {
				if k == "url" || k == "dashboard_url" {
					continue
				}
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var kv []string
			for _, k := range keys {
				kv = append(kv, k+"="+r.Info[k])
			}
			if len(kv) > 0 {
				if detail != "" {
					detail += "; "
				}
				detail += strings.Join(kv, " ")
			}
		}
		rows = append(rows, []string{r.Name, r.Kind, ui.ShortID(r.ID), st, detail})
	}
	ui.TableWidth(w, s.Width, []string{"RESOURCE", "KIND", "ID", "STATUS", "DETAIL"}, rows)
	health := s.Good("healthy")
	if !doc.Healthy {
		health = s.Bad("not healthy")
	}
	fmt.Fprintf(w, "\nStack %s (%s, account %s): %s", doc.Stack, doc.Region, doc.Account, health)
	var parts []string
	for _, k := range []string{"ok", "creating", "degraded", "drifted", "missing"} {
		if doc.Summary[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", doc.Summary[k], k))
		}
	}
	fmt.Fprintf(w, " (%s)\n", strings.Join(parts, ", "))
	renderBackups(s, doc.Backups)
	if doc.URL != "" {
		fmt.Fprintf(w, "URL:       %s\n", doc.URL)
	}
	if doc.DashboardURL != "" {
		fmt.Fprintf(w, "Dashboard: %s\n", doc.DashboardURL)
	}
	for _, n := range doc.Notes {
		fmt.Fprintln(w, "Note: "+n)
	}
}

// keptOnDestroy says why a default destroy keeps rec ("" if it deletes it).
func keptOnDestroy(env *provision.Env, rec state.Resource) string {
	k, ok := provision.KindOf(rec.Kind)
	if !ok {
		return ""
	}
	kp, ok := k.(provision.Keeper)
	if !ok {
		return ""
	}
	return kp.Keeps(env, rec)
}
