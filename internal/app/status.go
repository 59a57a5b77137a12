package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/probe"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// StatusOptions are status's own flags.
type StatusOptions struct {
	// WaitHealthy polls until healthy or this much time passed (0 = once).
	WaitHealthy time.Duration
	// NoProbe skips checking the whiteboard through its public URL.
	NoProbe bool
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
	// Unchecked lists the resource kinds that could not be listed (no
	// permission, or an endpoint that does not support the calls).
	Unchecked []string `json:"unchecked,omitempty"`
	// Backups: each shard's recovery point (recovery.go); a stale one
	// makes the stack unhealthy.
	Backups []BackupStatus `json:"backups,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	Probe   *probe.Report  `json:"probe,omitempty"`
	// Domain is domain.name's certificate and DNS, with what is missing.
	Domain *DomainStatus `json:"domain,omitempty"`
}

// DomainStatus is what status says of domain.name.
type DomainStatus struct {
	Name string `json:"name"`
	// Certificate is the ACM status of its certificate ("ISSUED",
	// "PENDING_VALIDATION", ...; "" before up requested it).
	Certificate string `json:"certificate"`
	Expires     string `json:"expires,omitempty"`
	// DNS is "route53" (wbo-deploy writes the records in the zone) or
	// "external" (the user creates them at their DNS provider).
	DNS  string `json:"dns"`
	Zone string `json:"zone,omitempty"`
	// Missing are the records still to create at the DNS provider while
	// the certificate is not issued (external DNS only).
	Missing []provision.DNSRecord `json:"missing,omitempty"`
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
	st, err := g.readState(ctx, cfg, "status")
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	clients, err := g.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	if err := checkBinding(st, clients); err != nil {
		return err
	}
	env := provision.NewEnv(clients, cfg, st, g.clock(), nil)
	eng := &provision.Engine{Graph: provision.Build(cfg), Env: env, Stop: g.Stop}
	deadline := time.Now().Add(env.Clock.Wall(o.WaitHealthy))
	polled := false
	for {
		doc, err := statusOnce(ctx, g, cfg, eng, st, clients.Account, clients.Region)
		if err != nil {
			return err
		}
		if doc.Deployed && !o.NoProbe {
			var note string
			doc.Probe, note = g.runProbe(ctx, cfg, env, doc.URL)
			doc.Healthy = doc.Healthy && (doc.Probe == nil || doc.Probe.OK)
			if note != "" {
				doc.Notes = append(doc.Notes, note)
			}
		}
		// With --wait-healthy, an unhealthy stack is checked at least twice,
		// however long the first look took.
		done := !doc.Deployed || doc.Healthy || o.WaitHealthy == 0 || (time.Now().After(deadline) && polled) || g.interrupted()
		polled = true
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
				if err := probeError(doc.Probe); err != nil {
					return err
				}
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
	if doc.Probe != nil {
		parts = append(parts, doc.Probe.Failures()...)
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
	var unchecked *provision.UncheckedError
	if len(recs) == 0 {
		// No state: the configured stack is found as up would adopt it (by
		// tags and deterministic names, in dependency order, with the
		// attributes state would hold), plus anything else tagged for the
		// stack, so the report is the one a state would give.
		var obsUnchecked *provision.UncheckedError
		observed, err := eng.Observe(ctx)
		if errors.As(err, &obsUnchecked) {
			err = nil
		}
		if err != nil {
			return doc, err
		}
		found, err := eng.Discover(ctx)
		if errors.As(err, &unchecked) {
			err = nil
		}
		if err != nil {
			return doc, err
		}
		unchecked = mergeUnchecked(unchecked, obsUnchecked)
		if unchecked != nil {
			// Report what could be checked; the rest is said below.
			for _, k := range unchecked.Kinds {
				doc.Unchecked = append(doc.Unchecked, k.Kind)
				doc.Notes = append(doc.Notes, fmt.Sprintf("could not check for %s resources: %v", k.Kind, k.Err))
			}
		}
		all := provision.Merge(observed, found)
		doc.Source = "tags"
		// Data kept by an earlier destroy (the board bucket) does not make
		// a deployment.
		var kept []string
		live := 0
		for _, r := range all {
			if why := keptOnDestroy(eng.Env, r); why != "" {
				kept = append(kept, fmt.Sprintf("%s %s exists, kept by an earlier destroy; `wbo-deploy up` adopts it", r.Kind, r.ID))
				continue
			}
			live++
		}
		if live == 0 {
			doc.Notes = append(doc.Notes, kept...)
			return doc, nil
		}
		recs = all
		doc.Notes = append(doc.Notes, "no state: these resources were found by their tags and names; `wbo-deploy up` records them (adopts them) in the state")
	}
	if len(recs) == 0 {
		return doc, nil
	}
	doc.Deployed = true
	doc.Resources = eng.Status(ctx, recs)
	doc.Domain = domainStatus(cfg, eng.Env, doc.Resources)
	// Resources the configuration has but neither state nor AWS knows: not
	// created yet, or unknown when their kind could not be listed.
	uncheckedErr := map[string]error{}
	if unchecked != nil {
		for _, k := range unchecked.Kinds {
			uncheckedErr[k.Kind] = k.Err
		}
	}
	have := map[string]bool{}
	for _, r := range recs {
		have[r.Name] = true
	}
	inGraph := map[string]bool{}
	for _, n := range eng.Graph.Nodes() {
		inGraph[n.Kind] = true
		if have[n.Name] {
			continue
		}
		if err, ok := uncheckedErr[n.Kind]; ok {
			doc.Resources = append(doc.Resources, provision.ResourceStatus{Name: n.Name, Kind: n.Kind, Status: provision.StatusUnknown,
				Reason: fmt.Sprintf("could not check: %v", err)})
			continue
		}
		doc.Resources = append(doc.Resources, provision.ResourceStatus{Name: n.Name, Kind: n.Kind, Status: provision.StatusMissing, Reason: "not created yet (run up)"})
	}
	// Unchecked kinds the configuration does not have may still hold
	// resources of the stack (left by an earlier configuration).
	if unchecked != nil {
		for _, k := range unchecked.Kinds {
			if !inGraph[k.Kind] {
				doc.Resources = append(doc.Resources, provision.ResourceStatus{Name: k.Kind, Kind: k.Kind, Status: provision.StatusUnknown,
					Reason: fmt.Sprintf("could not list: %v", k.Err)})
			}
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
		for _, n := range doc.Notes {
			fmt.Fprintln(w, "Note: "+n)
		}
		return
	}
	var rows [][]string
	for _, r := range doc.Resources {
		st := r.Status
		switch st {
		case provision.StatusOK:
			st = s.Good(st)
		case provision.StatusCreating, provision.StatusUnknown:
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
	for _, k := range []string{"ok", "creating", "degraded", "drifted", "missing", "unknown"} {
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
	renderDomain(s, doc.Domain)
	for _, n := range doc.Notes {
		fmt.Fprintln(w, "Note: "+n)
	}
	renderProbe(s, w, doc.Probe)
}

// domainStatus gathers what the domain's nodes reported (nil without a
// domain).
func domainStatus(cfg *config.Config, env *provision.Env, res []provision.ResourceStatus) *DomainStatus {
	d := cfg.DomainName()
	if d == "" {
		return nil
	}
	ds := &DomainStatus{Name: d, DNS: "route53"}
	recs, inRoute53 := provision.DomainRecords(env)
	if !inRoute53 {
		ds.DNS = "external"
	}
	for _, r := range res {
		switch r.Name {
		case provision.CertificateNode(d):
			if f := strings.Fields(r.Info["certificate"]); len(f) == 2 {
				ds.Certificate = f[1]
			}
			ds.Expires = r.Info["expires"]
		case "dns-zone":
			ds.Zone = r.Info["zone"]
		}
	}
	if ds.DNS == "external" && ds.Certificate != "ISSUED" {
		ds.Missing = recs
	}
	return ds
}

func renderDomain(s *ui.Streams, d *DomainStatus) {
	if d == nil {
		return
	}
	w := s.Out
	cert := d.Certificate
	switch cert {
	case "":
		cert = "not requested yet (run up)"
	case "ISSUED":
		cert = s.Good("issued") + ", valid until " + d.Expires
	default:
		cert = s.Warn(cert)
	}
	where := "records in Route 53 zone " + d.Zone
	if d.DNS == "external" {
		where = "records at your DNS provider (no Route 53 zone of this account holds " + d.Name + ")"
	}
	fmt.Fprintf(w, "Domain:    %s: certificate %s; %s\n", d.Name, cert, where)
	if len(d.Missing) > 0 {
		fmt.Fprintln(w, "           still to create at your DNS provider (then run `wbo-deploy up`):")
		for _, r := range d.Missing {
			fmt.Fprintf(w, "             %s\n", r.String())
		}
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

// mergeUnchecked joins the kinds Discover and Observe could not check, each
// kind once (Discover's reason first).
func mergeUnchecked(a, b *provision.UncheckedError) *provision.UncheckedError {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := &provision.UncheckedError{Stack: a.Stack, Kinds: append([]provision.UncheckedKind(nil), a.Kinds...)}
	have := map[string]bool{}
	for _, k := range a.Kinds {
		have[k.Kind] = true
	}
	for _, k := range b.Kinds {
		if !have[k.Kind] {
			out.Kinds = append(out.Kinds, k)
		}
	}
	return out
}
