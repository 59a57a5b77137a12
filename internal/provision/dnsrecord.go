package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// dnsRecordKind writes one record of domain.name in its Route 53 zone:
// Role "validation" is the certificate's validation CNAME (from ACM), Role
// "alias" the domain's A record, an alias of the load balancer.
//
// Records carry no tags, so ownership is a TXT record beside each one, as
// ExternalDNS keeps its registry: "_wbo-deploy.<name>" holding
// "heritage=wbo-deploy,stack=…,region=…,resource=…,type=…", written in the
// same change batch (a batch is all or nothing, ChangeResourceRecordSets
// reference). up never overwrites a record that has no such TXT of this
// stack (it stops and says so), and destroy deletes only records that have
// one. A validation CNAME that is already there with ACM's value (made by
// hand, or by another tool) is used as it is and left alone.
//
// With no Route 53 zone for the domain (DNS elsewhere) the node makes
// nothing: its ID is "external/<name>/<type>", and status and up show the
// record to create (certificate.go).
//
// The ID is "<zone>/<name>/<type>": a record set is identified by its zone,
// name and type.
type dnsRecordKind struct{}

func init() { Register(dnsRecordKind{}) }

func (dnsRecordKind) Type() string { return "route53.record" }

// Waits (AWS time): a change is INSYNC "generally within 60 seconds"
// (ChangeResourceRecordSets reference).
const (
	dnsSyncTimeout = 10 * time.Minute
	dnsPollMin     = 5 * time.Second
	dnsPollMax     = 15 * time.Second
	dnsRecordTTL   = 300
	ownerPrefix    = "_wbo-deploy."
)

// dnsSpec is a record as the configuration wants it.
type dnsSpec struct {
	zone, name, typ string // name fully qualified, lower case
	value           string // CNAME target, or the alias target's DNS name
	aliasZone       string // alias target's hosted zone (the load balancer's canonical zone)
}

func (s dnsSpec) id() string { return s.zone + "/" + s.name + "/" + s.typ }

func parseRecordID(id string) (zone, name, typ string, ok bool) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func (k dnsRecordKind) spec(env *Env, n *Node) (dnsSpec, error) {
	zone, err := env.Ref(dnsZoneNode)
	if err != nil {
		return dnsSpec{}, err
	}
	s := dnsSpec{zone: zone.ID}
	switch n.Role {
	case "validation":
		c, err := env.Ref(certOf(n))
		if err != nil {
			return dnsSpec{}, err
		}
		if c.Attrs["validation_name"] == "" {
			return dnsSpec{}, fmt.Errorf("ACM has not published the validation record of %s yet", c.Attrs["domain"])
		}
		s.name, s.typ, s.value = fqdnOf(c.Attrs["validation_name"]), "CNAME", fqdnOf(c.Attrs["validation_value"])
	case "alias":
		lb, err := env.Ref("alb")
		if err != nil {
			return dnsSpec{}, err
		}
		s.name, s.value = fqdnOf(env.Cfg.DomainName()), fqdnOf(lb.Attrs["dns_name"])
		s.typ, s.aliasZone = "A", lb.Attrs["zone_id"]
		if zone.ID == zoneExternal {
			s.typ = "CNAME" // what the user creates at their provider
		} else if s.aliasZone == "" {
			return dnsSpec{}, fmt.Errorf("the load balancer's canonical hosted zone ID is unknown (DescribeLoadBalancers answered no CanonicalHostedZoneId): an alias record of %s cannot name it", env.Cfg.DomainName())
		}
	default:
		return dnsSpec{}, fmt.Errorf("unknown DNS record role %q", n.Role)
	}
	return s, nil
}

// ownerValue is the TXT value marking a record as this stack's node's.
func ownerValue(env *Env, resource, typ string) string {
	return fmt.Sprintf(`"heritage=wbo-deploy,stack=%s,region=%s,resource=%s,type=%s"`, env.Stack(), env.Region(), resource, typ)
}

// ownerFields parses an owner TXT value (nil when it is not one).
func ownerFields(v string) map[string]string {
	v = strings.Trim(v, `"`)
	if !strings.HasPrefix(v, "heritage=wbo-deploy,") {
		return nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		if k, val, ok := strings.Cut(kv, "="); ok {
			m[k] = val
		}
	}
	return m
}

// getSet returns the record set of zone with exactly name and type, or nil.
func getSet(ctx context.Context, env *Env, zone, name, typ string) (*r53t.ResourceRecordSet, error) {
	out, err := env.AWS.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		StartRecordName: aws.String(name), StartRecordType: r53t.RRType(typ), MaxItems: aws.Int32(1)})
	if err != nil {
		return nil, fmt.Errorf("list records of zone %s from %s %s: %w", zone, name, typ, err)
	}
	for _, s := range out.ResourceRecordSets {
		if fqdnOf(aws.ToString(s.Name)) == name && string(s.Type) == typ {
			return &s, nil
		}
	}
	return nil, nil
}

// setValue is what a record set points at: its alias target or its values.
func setValue(s *r53t.ResourceRecordSet) string {
	if s.AliasTarget != nil {
		return fqdnOf(strings.TrimPrefix(strings.ToLower(aws.ToString(s.AliasTarget.DNSName)), "dualstack."))
	}
	var vs []string
	for _, r := range s.ResourceRecords {
		vs = append(vs, fqdnOf(aws.ToString(r.Value)))
	}
	return strings.Join(vs, ",")
}

type dnsObs struct {
	set, owner *r53t.ResourceRecordSet
	owned      bool
}

// ForeignRecordError refuses to overwrite a record wbo-deploy did not make.
type ForeignRecordError struct {
	Name, Type, Zone, Value string
}

func (e *ForeignRecordError) Error() string {
	return fmt.Sprintf("%s already has a %s record in Route 53 zone %s (→ %s) that this stack did not make: wbo-deploy does not overwrite it; delete it, or set another domain.name",
		strings.TrimSuffix(e.Name, "."), e.Type, e.Zone, e.Value)
}

func (k dnsRecordKind) observe(n *Node, s dnsSpec, o *dnsObs) *Observed {
	rec := NewRecord(n, s.id())
	rec.Attrs["zone"], rec.Attrs["name"], rec.Attrs["type"] = s.zone, s.name, s.typ
	obs := &Observed{Rec: rec, State: "INSYNC", Raw: o, Info: map[string]string{}}
	switch {
	case s.zone == zoneExternal:
		rec.Attrs["owned"] = "false"
		obs.Info["dns"] = "at your DNS provider: " + s.name + " " + s.typ + " " + s.value + " (wbo-deploy cannot check it there)"
	case o.owned:
		rec.Attrs["owned"], rec.Attrs["value"] = "true", setValue(o.set)
		obs.Info["dns"] = s.name + " " + s.typ + " → " + setValue(o.set) + " in Route 53 zone " + s.zone
	default:
		rec.Attrs["owned"], rec.Attrs["value"] = "false", setValue(o.set)
		obs.Info["dns"] = s.name + " " + s.typ + " → " + setValue(o.set) + " in Route 53 zone " + s.zone + " (not made by wbo-deploy: used as it is)"
	}
	return obs
}

func (k dnsRecordKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	var s dnsSpec
	if n.Role != "" {
		var err error
		if s, err = k.spec(env, n); err != nil {
			return nil, err
		}
	} else if rec != nil {
		// A record of an earlier domain.name (status of what up deletes).
		zone, name, typ, ok := parseRecordID(rec.ID)
		if !ok {
			return nil, fmt.Errorf("DNS record ID %q is not zone/name/type", rec.ID)
		}
		s = dnsSpec{zone: zone, name: name, typ: typ, value: rec.Attrs["value"]}
	}
	if s.zone == zoneExternal {
		return k.observe(n, s, &dnsObs{}), nil
	}
	set, err := getSet(ctx, env, s.zone, s.name, s.typ)
	if err != nil || set == nil {
		if awserr.IsNotFound(err) {
			return nil, nil // the zone is gone
		}
		return nil, err
	}
	o := &dnsObs{set: set}
	if o.owner, err = getSet(ctx, env, s.zone, ownerPrefix+s.name, "TXT"); err != nil {
		return nil, err
	}
	o.owned = k.ours(env, n.Name, s.typ, o.owner)
	if !o.owned && n.Role != "" && (n.Role != "validation" || setValue(set) != s.value) {
		return nil, &ForeignRecordError{Name: s.name, Type: s.typ, Zone: s.zone, Value: setValue(set)}
	}
	return k.observe(n, s, o), nil
}

// ours reports whether owner is this stack's TXT for the resource.
func (dnsRecordKind) ours(env *Env, resource, typ string, owner *r53t.ResourceRecordSet) bool {
	if owner == nil {
		return false
	}
	for _, r := range owner.ResourceRecords {
		f := ownerFields(aws.ToString(r.Value))
		if f != nil && f["stack"] == env.Stack() && f["region"] == env.Region() && f["resource"] == resource && f["type"] == typ {
			return true
		}
	}
	return false
}

// sets are the record set and its owner TXT as the spec wants them.
func (k dnsRecordKind) sets(env *Env, n *Node, s dnsSpec) (r53t.ResourceRecordSet, r53t.ResourceRecordSet) {
	set := r53t.ResourceRecordSet{Name: aws.String(s.name), Type: r53t.RRType(s.typ)}
	if s.typ == "A" {
		// Evaluating the target's health adds nothing with one load
		// balancer and no failover record to answer instead.
		set.AliasTarget = &r53t.AliasTarget{DNSName: aws.String(s.value), HostedZoneId: aws.String(s.aliasZone), EvaluateTargetHealth: false}
	} else {
		set.TTL = aws.Int64(dnsRecordTTL)
		set.ResourceRecords = []r53t.ResourceRecord{{Value: aws.String(s.value)}}
	}
	owner := r53t.ResourceRecordSet{Name: aws.String(ownerPrefix + s.name), Type: r53t.RRTypeTxt, TTL: aws.Int64(dnsRecordTTL),
		ResourceRecords: []r53t.ResourceRecord{{Value: aws.String(ownerValue(env, n.Name, s.typ))}}}
	return set, owner
}

// change sends one batch; with accepted set, it calls accepted once Route 53
// has taken the batch and then waits until the change is INSYNC.
func (k dnsRecordKind) change(ctx context.Context, env *Env, node, zone, comment string, changes []r53t.Change, accepted func() error) error {
	out, err := env.AWS.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		ChangeBatch: &r53t.ChangeBatch{Comment: aws.String(comment), Changes: changes}})
	if err != nil {
		return err
	}
	if accepted == nil || out.ChangeInfo == nil {
		return nil
	}
	if err := accepted(); err != nil {
		return err
	}
	id := aws.ToString(out.ChangeInfo.Id)
	return env.Clock.Poll(ctx, dnsSyncTimeout, dnsPollMin, dnsPollMax, pollProgress(env, node, ""), func(ctx context.Context) (bool, string, error) {
		c, err := env.AWS.Route53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		if awserr.IsNotFound(err) {
			return false, "waiting for the change to be visible", nil
		}
		if err != nil {
			return false, "", fmt.Errorf("get change %s: %w", id, err)
		}
		if c.ChangeInfo.Status == r53t.ChangeStatusInsync {
			return true, "", nil
		}
		return false, "waiting for Route 53 to propagate the record (" + string(c.ChangeInfo.Status) + ")", nil
	})
}

func (k dnsRecordKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	s, err := k.spec(env, n)
	if err != nil {
		return nil, err
	}
	if s.zone == zoneExternal {
		return k.observe(n, s, &dnsObs{}), nil
	}
	// A record this node made in another zone (domain.hosted_zone_id
	// changed): deleted once the new one is written.
	var previous *state.Resource
	if env.store != nil {
		if old, ok := env.store.Get(n.Name); ok && old.ID != s.id() && old.Attrs["owned"] == "true" {
			previous = &old
		}
	}
	set, owner := k.sets(env, n, s)
	// Recorded once Route 53 has accepted the batch, before the wait for
	// INSYNC (ACM validates, and users resolve, only what Route 53 serves).
	record := func() error { return env.Record(k.observe(n, s, &dnsObs{set: &set, owner: &owner, owned: true}).Rec) }
	err = k.change(ctx, env, n.Name, s.zone, "wbo-deploy "+env.Stack()+": "+n.Name,
		[]r53t.Change{{Action: r53t.ChangeActionCreate, ResourceRecordSet: &set}, {Action: r53t.ChangeActionCreate, ResourceRecordSet: &owner}}, record)
	if awserr.HasCode(err, "InvalidChangeBatch") && strings.Contains(err.Error(), "already exists") {
		// Made meanwhile (an answer lost, a concurrent run) or by someone
		// else: Find says which.
		obs, ferr := k.Find(ctx, env, n, nil)
		if ferr != nil {
			return nil, ferr
		}
		if obs != nil {
			return obs, env.Record(obs.Rec)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create %s %s in zone %s: %w", s.typ, s.name, s.zone, err)
	}
	if previous != nil {
		if err := k.Delete(ctx, env, *previous); err != nil {
			return nil, fmt.Errorf("delete the record this stack made in zone %s before: %w", previous.Attrs["zone"], err)
		}
	}
	return k.observe(n, s, &dnsObs{set: &set, owner: &owner, owned: true}), nil
}

func (k dnsRecordKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	if obs.Rec.Attrs["owned"] != "true" {
		return nil
	}
	s, err := k.spec(env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "?", New: err.Error()}}
	}
	o := obs.Raw.(*dnsObs)
	var cs []Change
	if got := setValue(o.set); got != s.value {
		cs = append(cs, Change{Field: "value", Old: got, New: s.value})
	}
	if s.typ == "A" && o.set.AliasTarget != nil && zoneIDOf(aws.ToString(o.set.AliasTarget.HostedZoneId)) != s.aliasZone {
		cs = append(cs, Change{Field: "alias_zone", Old: aws.ToString(o.set.AliasTarget.HostedZoneId), New: s.aliasZone})
	}
	return cs
}

func (k dnsRecordKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, _ []Change) error {
	s, err := k.spec(env, n)
	if err != nil {
		return err
	}
	set, owner := k.sets(env, n, s)
	err = k.change(ctx, env, n.Name, s.zone, "wbo-deploy "+env.Stack()+": "+n.Name,
		[]r53t.Change{{Action: r53t.ChangeActionUpsert, ResourceRecordSet: &set}, {Action: r53t.ChangeActionUpsert, ResourceRecordSet: &owner}}, func() error { return nil })
	if err != nil {
		return fmt.Errorf("update %s %s in zone %s: %w", s.typ, s.name, s.zone, err)
	}
	fresh := k.observe(n, s, &dnsObs{set: &set, owner: &owner, owned: true})
	obs.Rec, obs.Info, obs.Raw = fresh.Rec, fresh.Info, fresh.Raw
	return nil
}

// Delete deletes the record and its owner TXT, as they are now (a DELETE
// must give the record set exactly), and only when the TXT says the record
// is this stack's.
func (k dnsRecordKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	zone, name, typ, ok := parseRecordID(rec.ID)
	if !ok || zone == zoneExternal || rec.Attrs["owned"] == "false" {
		return nil
	}
	for attempt := 0; ; attempt++ {
		set, err := getSet(ctx, env, zone, name, typ)
		if awserr.IsNotFound(err) {
			return nil // the zone is gone
		}
		if err != nil {
			return err
		}
		owner, err := getSet(ctx, env, zone, ownerPrefix+name, "TXT")
		if err != nil {
			return err
		}
		if !k.ours(env, rec.Name, typ, owner) {
			if set != nil {
				env.Emit(Event{Node: rec.Name, Kind: rec.Kind, Phase: PhaseInfo,
					Message: fmt.Sprintf("left %s %s in zone %s: its ownership record %s is not this stack's", name, typ, zone, ownerPrefix+name)})
			}
			return nil
		}
		changes := []r53t.Change{{Action: r53t.ChangeActionDelete, ResourceRecordSet: owner}}
		if set != nil {
			changes = append([]r53t.Change{{Action: r53t.ChangeActionDelete, ResourceRecordSet: set}}, changes...)
		}
		err = k.change(ctx, env, rec.Name, zone, "wbo-deploy "+env.Stack()+": delete "+rec.Name, changes, nil)
		if err == nil || awserr.IsNotFound(err) {
			return nil
		}
		// Changed between the read and the delete: read again, once.
		if awserr.HasCode(err, "InvalidChangeBatch") && attempt == 0 {
			continue
		}
		return fmt.Errorf("delete %s %s in zone %s: %w", typ, name, zone, err)
	}
}

// Discover finds the stack's records in the zone of the configured domain
// by their owner TXT records (records of a domain.name given up earlier in
// another zone need the state).
func (k dnsRecordKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	domain := env.Cfg.DomainName()
	if domain == "" {
		return nil, nil
	}
	z, err := lookupZone(ctx, env, domain)
	if err != nil || z.id == "" {
		return nil, err
	}
	var out []state.Resource
	p := route53.NewListResourceRecordSetsPaginator(env.AWS.Route53, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z.id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list records of zone %s: %w", z.id, err)
		}
		for _, s := range page.ResourceRecordSets {
			name := fqdnOf(aws.ToString(s.Name))
			if s.Type != r53t.RRTypeTxt || !strings.HasPrefix(name, ownerPrefix) {
				continue
			}
			for _, r := range s.ResourceRecords {
				f := ownerFields(aws.ToString(r.Value))
				if f == nil || f["stack"] != env.Stack() || f["region"] != env.Region() {
					continue
				}
				target := strings.TrimPrefix(name, ownerPrefix)
				out = append(out, state.Resource{Name: f["resource"], Kind: k.Type(), ID: z.id + "/" + target + "/" + f["type"],
					Attrs: map[string]string{"zone": z.id, "name": target, "type": f["type"], "owned": "true"}})
			}
		}
	}
	return out, nil
}

func (dnsRecordKind) PlanNote(env *Env, n *Node) string {
	if n.Role == "validation" {
		return "the certificate's validation CNAME in the domain's Route 53 zone (or, with DNS elsewhere, printed for you to create)"
	}
	return env.Cfg.DomainName() + " → the load balancer (alias A record in Route 53, or a CNAME you create), once HTTPS serves"
}

// OrphanNote: a record of an earlier domain.name.
func (dnsRecordKind) OrphanNote(rec state.Resource) string {
	return "a record of an earlier domain.name, deleted once the new name serves"
}
