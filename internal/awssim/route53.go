package awssim

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// Route 53 public hosted zones, their record sets and change batches (Amazon
// Route 53 API reference). Error codes: NoSuchHostedZone, NoSuchChange,
// InvalidChangeBatch, InvalidInput, HostedZoneNotEmpty.
//
// Behaviour simulated:
//   - Names are stored lower-case and fully qualified (trailing dot);
//     ListHostedZonesByName orders zones by their names with the labels
//     reversed ("com.example.www."), starting at DNSName.
//   - A change batch is atomic: every change applies or none does. CREATE of
//     an existing name and type, and DELETE of a set that does not exist or
//     differs from the one given, answer InvalidChangeBatch ("Tried to create
//     resource record set [name='…', type='…'] but it already exists"; "…
//     but it was not found"). UPSERT creates or replaces.
//   - ChangeResourceRecordSets answers ChangeInfo PENDING; GetChange answers
//     INSYNC once the change has propagated to every Route 53 server,
//     Timing.Route53Propagation later ("generally within 60 seconds",
//     ChangeResourceRecordSets reference). Until then the records are not
//     visible to resolvers (dns.go), only to ListResourceRecordSets.
//   - An alias record's target must be given with its hosted zone ID
//     (AliasTarget.HostedZoneId) and DNSName.
//   - DeleteHostedZone of a zone with records other than its SOA and NS
//     answers HostedZoneNotEmpty.

// Route53Propagation is how long (AWS time) a change stays PENDING: the
// realistic figure of Timing.Route53Propagation (timing.go).
const Route53Propagation = 30 * time.Second

type r53Record struct {
	set     r53t.ResourceRecordSet
	visible time.Time // when resolvers see it (its change is INSYNC)
	// prev is what resolvers keep seeing until then (UPSERT of a visible
	// record); gone, for a deleted record, when they stop seeing it.
	prev *r53Record
	gone time.Time
}

type r53Zone struct {
	id, name, comment string
	private           bool
	records           map[string]*r53Record // "name|type"
	// fading are deleted records resolvers still see until the DELETE's
	// change is INSYNC (gone), by key.
	fading map[string]*r53Record
}

// seen is the record resolvers see under key at now, nil if none: a change
// takes effect on the name servers only once INSYNC ("PENDING indicates
// that the changes in this request have not propagated to all Amazon Route
// 53 DNS servers", ChangeInfo.Status, Route 53 API reference), so until then
// they answer what was there before.
func (z *r53Zone) seen(key string, now time.Time) *r53Record {
	if r := z.records[key]; r != nil {
		if !now.Before(r.visible) {
			return r
		}
		if r.prev != nil && !now.Before(r.prev.visible) {
			return r.prev
		}
		return nil
	}
	if r := z.fading[key]; r != nil && now.Before(r.gone) && !now.Before(r.visible) {
		return r
	}
	return nil
}

type r53Change struct {
	id     string
	insync time.Time
	at     time.Time
}

type route53Sim struct {
	c        *Cloud
	zones    map[string]*r53Zone // by ID (without /hostedzone/)
	changes  map[string]*r53Change
	external []extRecord // records at another DNS provider (dns.go)
}

func init() {
	register("Route 53", func(c *Cloud) any {
		return &route53Sim{c: c, zones: map[string]*r53Zone{}, changes: map[string]*r53Change{}}
	})
}

func (c *Cloud) route53() *route53Sim { return c.services["Route 53"].(*route53Sim) }

// fqdn lower-cases a name and adds the trailing dot.
func fqdn(n string) string {
	n = strings.ToLower(strings.TrimSpace(n))
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

func reversedLabels(n string) string {
	labels := strings.Split(strings.TrimSuffix(n, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

func zoneID(id string) string {
	return strings.TrimPrefix(strings.TrimPrefix(id, "/hostedzone/"), "hostedzone/")
}

func (s *route53Sim) inventory() []Resource {
	var out []Resource
	for _, id := range sortedKeys(s.zones) {
		z := s.zones[id]
		for _, k := range sortedKeys(z.records) {
			r := z.records[k]
			if r.set.Type == r53t.RRTypeSoa || r.set.Type == r53t.RRTypeNs {
				continue
			}
			// Records carry no tags; they are listed for leak checks by name.
			out = append(out, Resource{"Route 53", "record", id + " " + k, map[string]string{}})
		}
	}
	return out
}

// CreateZone makes a public hosted zone with its SOA and NS records, as a
// domain's owner would (tests call it; wbo-deploy never creates zones).
func (c *Cloud) CreateZone(name string) string {
	c.lock()
	defer c.unlock()
	s := c.route53()
	c.seq++
	id := fmt.Sprintf("Z%020X", uint64(c.seq)*0x9e3779b97f4a7c15)[:21]
	n := fqdn(name)
	z := &r53Zone{id: id, name: n, records: map[string]*r53Record{}}
	past := s.c.now().Add(-time.Hour)
	z.records[n+"|SOA"] = &r53Record{set: r53t.ResourceRecordSet{Name: aws.String(n), Type: r53t.RRTypeSoa, TTL: aws.Int64(900),
		ResourceRecords: []r53t.ResourceRecord{{Value: aws.String("ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")}}}, visible: past}
	z.records[n+"|NS"] = &r53Record{set: r53t.ResourceRecordSet{Name: aws.String(n), Type: r53t.RRTypeNs, TTL: aws.Int64(172800),
		ResourceRecords: []r53t.ResourceRecord{{Value: aws.String("ns-1.awsdns-01.org.")}, {Value: aws.String("ns-2.awsdns-02.com.")}}}, visible: past}
	s.zones[id] = z
	return id
}

func (s *route53Sim) zoneOut(z *r53Zone) r53t.HostedZone {
	return r53t.HostedZone{Id: aws.String("/hostedzone/" + z.id), Name: aws.String(z.name), CallerReference: aws.String(z.id),
		Config: &r53t.HostedZoneConfig{PrivateZone: z.private, Comment: aws.String(z.comment)}, ResourceRecordSetCount: aws.Int64(int64(len(z.records)))}
}

func (s *route53Sim) GetHostedZone(_ context.Context, in *route53.GetHostedZoneInput) (*route53.GetHostedZoneOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	z, ok := s.zones[zoneID(aws.ToString(in.Id))]
	if !ok {
		return nil, apiError("NoSuchHostedZone", "No hosted zone found with ID: %s", aws.ToString(in.Id))
	}
	out := s.zoneOut(z)
	// A public zone comes with its delegation set: the name servers the
	// registrar must point at (GetHostedZone reference, DelegationSet).
	res := &route53.GetHostedZoneOutput{HostedZone: &out}
	if ns := z.records[z.name+"|NS"]; ns != nil && !z.private {
		res.DelegationSet = &r53t.DelegationSet{}
		for _, v := range ns.set.ResourceRecords {
			res.DelegationSet.NameServers = append(res.DelegationSet.NameServers, strings.TrimSuffix(aws.ToString(v.Value), "."))
		}
	}
	return res, nil
}

func (s *route53Sim) ListHostedZonesByName(_ context.Context, in *route53.ListHostedZonesByNameInput) (*route53.ListHostedZonesByNameOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	zs := make([]*r53Zone, 0, len(s.zones))
	for _, z := range s.zones {
		zs = append(zs, z)
	}
	sort.Slice(zs, func(i, j int) bool {
		a, b := reversedLabels(zs[i].name), reversedLabels(zs[j].name)
		if a != b {
			return a < b
		}
		return zs[i].id < zs[j].id
	})
	start, startID := "", zoneID(aws.ToString(in.HostedZoneId))
	if in.DNSName != nil {
		start = reversedLabels(fqdn(aws.ToString(in.DNSName)))
	} else if startID != "" {
		// "If you specify hostedzoneid, you must also specify dnsname"
		// (ListHostedZonesByName reference).
		return nil, apiError("InvalidInput", "The input is not valid: HostedZoneId requires DNSName")
	}
	limit := 100
	if in.MaxItems != nil {
		limit = int(aws.ToInt32(in.MaxItems))
	}
	out := &route53.ListHostedZonesByNameOutput{DNSName: in.DNSName, MaxItems: aws.Int32(int32(limit))}
	for _, z := range zs {
		if n := reversedLabels(z.name); n < start || n == start && z.id < startID {
			continue
		}
		if len(out.HostedZones) == limit {
			out.IsTruncated = true
			out.NextDNSName, out.NextHostedZoneId = aws.String(z.name), aws.String(z.id)
			break
		}
		out.HostedZones = append(out.HostedZones, s.zoneOut(z))
	}
	return out, nil
}

func recordKey(set r53t.ResourceRecordSet) string {
	return fqdn(aws.ToString(set.Name)) + "|" + string(set.Type)
}

func sameRecordSet(a, b r53t.ResourceRecordSet) bool {
	if aws.ToInt64(a.TTL) != aws.ToInt64(b.TTL) || len(a.ResourceRecords) != len(b.ResourceRecords) || (a.AliasTarget == nil) != (b.AliasTarget == nil) {
		return false
	}
	for i := range a.ResourceRecords {
		if aws.ToString(a.ResourceRecords[i].Value) != aws.ToString(b.ResourceRecords[i].Value) {
			return false
		}
	}
	if a.AliasTarget != nil {
		return fqdn(aws.ToString(a.AliasTarget.DNSName)) == fqdn(aws.ToString(b.AliasTarget.DNSName)) &&
			zoneID(aws.ToString(a.AliasTarget.HostedZoneId)) == zoneID(aws.ToString(b.AliasTarget.HostedZoneId))
	}
	return true
}

// maxBatchRecords: "Maximum number of ResourceRecord elements in a
// ChangeResourceRecordSets request: 1,000" (Route 53 Developer Guide,
// "Quotas", "Quotas on API requests"); an UPSERT counts twice ("the value of
// each ResourceRecord element in an UPSERT request is counted twice").
const maxBatchRecords = 1000

// shapeError checks one change's shape before any is applied. Route 53
// answers these with InvalidInput, one at a time: a record needs exactly one
// of an AliasTarget or a TTL with ResourceRecords ("Invalid request: Expected
// exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or
// TrafficPolicyInstanceId], but found none in Change with [...]" for records
// without a TTL, ministryofjustice/modernisation-platform#10072; "but found
// more than one" for an alias with a TTL, agorapulse/grails-aws-sdk#95,
// aws/aws-cli#2508; "If an alias record points to an AWS resource, you
// can't set the time to live (TTL)", Route 53 Developer Guide, "Choosing
// between alias and non-alias records").
func shapeError(ch r53t.Change) error {
	set := ch.ResourceRecordSet
	if set == nil {
		return apiError("InvalidInput", "Invalid request: a change must have a ResourceRecordSet")
	}
	n := 0
	if set.AliasTarget != nil {
		n++
	}
	if set.TTL != nil || len(set.ResourceRecords) > 0 {
		n++
		if set.TTL == nil || len(set.ResourceRecords) == 0 {
			n = 0 // "all of [TTL, and ResourceRecords]" not met
			if set.AliasTarget != nil {
				n = 2
			}
		}
	}
	if set.TrafficPolicyInstanceId != nil {
		n++
	}
	if n == 1 {
		return nil
	}
	found := "none"
	if n > 1 {
		found = "more than one"
	}
	return apiError("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found %s in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]",
		found, ch.Action, aws.ToString(set.Name), set.Type, orNull(set.SetIdentifier))
}

func orNull(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// txtProblem checks a TXT (or SPF) value: "A TXT record contains one or more
// strings that are enclosed in double quotation marks ("). ... A single
// string can include up to 255 characters" (Route 53 Developer Guide,
// "Supported DNS record types", TXT record type). An unquoted value with a
// space is refused with "FATAL problem: InvalidCharacterString (Value should
// be enclosed in quotation marks)" (octodns/octodns#1196); a longer string
// with "CharacterStringTooLong (Value is too long)". "" if the value is fine.
func txtProblem(v string) string {
	if !strings.HasPrefix(v, `"`) {
		if strings.ContainsAny(v, " \t") {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '%s''", v)
		}
		if len(v) > 255 {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '%s''", v)
		}
		return ""
	}
	// A sequence of quoted strings, \" and \\ escaped inside.
	rest := v
	for rest != "" {
		if !strings.HasPrefix(rest, `"`) {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '%s''", v)
		}
		i, n := 1, 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' {
				i++
			}
			n++
		}
		if i >= len(rest) {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '%s''", v)
		}
		if n > 255 {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '%s''", v)
		}
		rest = strings.TrimLeft(rest[i+1:], " ")
	}
	return ""
}

// aliasProblem checks an alias target on CREATE/UPSERT (c.mu held). For a
// load balancer, AliasTarget.HostedZoneId must be the ELB zone of the
// region (elbZoneIDs) and DNSName the DNS name of a load balancer of the
// account, case-insensitive, optionally prefixed "dualstack." (Route 53 API
// reference, AliasTarget, "ELB load balancer"). Otherwise Route 53 answers
// "Tried to create an alias that targets X., type A in zone Z, but the alias
// target name does not lie within the target zone" (barnybug/cli53#213 with
// the domain's own zone ID, hashicorp/terraform#21021) and, for a name in
// the right zone that names nothing, "... but that target was not found"
// (harmony-one/harmony-ops#491, pcorliss/ruby_route_53#17). An alias to a
// record of the same zone must name an existing record of the same type.
func (s *route53Sim) aliasProblem(z *r53Zone, next map[string]*r53Record, set r53t.ResourceRecordSet) string {
	at := set.AliasTarget
	target := fqdn(aws.ToString(at.DNSName))
	tz := zoneID(aws.ToString(at.HostedZoneId))
	head := fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but ", target, set.Type, tz)
	elbRegion := ""
	for r, id := range elbZoneIDs {
		if id == tz {
			elbRegion = r
		}
	}
	if tz == elbZoneID(s.c.Region) {
		elbRegion = s.c.Region
	}
	switch {
	case elbRegion != "":
		if !strings.HasSuffix(target, "."+elbRegion+".elb.amazonaws.com.") {
			return head + "the alias target name does not lie within the target zone"
		}
		if lb := s.c.lbByDNSName(target); lb == nil || elbRegion != s.c.Region {
			return head + "that target was not found"
		}
		return ""
	case tz == z.id:
		if target != z.name && !strings.HasSuffix(target, "."+z.name) {
			return head + "the alias target name does not lie within the target zone"
		}
		if _, ok := next[target+"|"+string(set.Type)]; !ok {
			return head + "that target was not found"
		}
		return ""
	}
	if oz, ok := s.zones[tz]; ok && (target == oz.name || strings.HasSuffix(target, "."+oz.name)) {
		if _, ok := oz.records[target+"|"+string(set.Type)]; ok {
			return ""
		}
		return head + "that target was not found"
	}
	return head + "the alias target name does not lie within the target zone"
}

// cnameProblems checks CNAME exclusivity for the names a batch touched, on
// the zone as the batch leaves it: "The DNS protocol does not allow you to
// create a CNAME record for the top node of a DNS namespace, also known as
// the zone apex ... if you create a CNAME record for a subdomain, you cannot
// create any other records for that subdomain" (Route 53 Developer Guide,
// "Supported DNS record types", CNAME). Route 53's messages: "RRSet of type
// CNAME with DNS name example.com. is not permitted at apex in zone
// example.com." (kubernetes-retired/kube-aws#1443,
// cloudfoundry/bosh-bootloader#310); "RRSet of type CNAME with DNS name X.
// is not permitted as it conflicts with other records with the same DNS name
// in zone Z." (aws/aws-sdk-java#1996); "RRSet of type A with DNS name X. is
// not permitted because a conflicting RRSet of type  CNAME with the same DNS
// name already exists in zone Z." (presslabs/zinc#178, two spaces as
// Route 53 writes it).
func cnameProblems(z *r53Zone, next map[string]*r53Record, touched []r53t.ResourceRecordSet) []string {
	var out []string
	seen := map[string]bool{}
	for _, set := range touched {
		name := aws.ToString(set.Name)
		key := name + "|" + string(set.Type)
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, still := next[key]; !still {
			continue // deleted by the batch
		}
		if set.Type == r53t.RRTypeCname {
			if name == z.name {
				out = append(out, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", name, z.name))
				continue
			}
			for k := range next {
				if strings.HasPrefix(k, name+"|") && k != key {
					out = append(out, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", name, z.name))
					break
				}
			}
			continue
		}
		if _, ok := next[name+"|CNAME"]; ok {
			out = append(out, fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone %s", set.Type, name, z.name))
		}
	}
	return out
}

// ChangeResourceRecordSets applies a batch atomically (ChangeResourceRecordSets
// API reference: "all of the changes in the batch are applied, or none
// are"). Names are compared as Route 53 does: case-insensitively, with or
// without the trailing dot ("Route 53 treats www.example.com (without a
// trailing dot) and www.example.com. (with a trailing dot) as identical",
// ResourceRecordSet.Name).
func (s *route53Sim) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput) (*route53.ChangeResourceRecordSetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	z, ok := s.zones[zoneID(aws.ToString(in.HostedZoneId))]
	if !ok {
		return nil, apiError("NoSuchHostedZone", "No hosted zone found with ID: %s", aws.ToString(in.HostedZoneId))
	}
	if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 {
		return nil, apiError("InvalidInput", "The change batch is empty")
	}
	count := 0
	for _, ch := range in.ChangeBatch.Changes {
		if err := shapeError(ch); err != nil {
			return nil, err
		}
		n := len(ch.ResourceRecordSet.ResourceRecords)
		if ch.Action == r53t.ChangeActionUpsert {
			n *= 2
		}
		count += n
	}
	if count > maxBatchRecords {
		return nil, apiError("InvalidChangeBatch", "[Number of records limit of %d exceeded.]", maxBatchRecords)
	}
	next := map[string]*r53Record{}
	for k, v := range z.records {
		next[k] = v
	}
	now := s.c.now()
	visible := s.c.deadline(s.c.Timing.Route53Propagation)
	var problems []string
	var touched []r53t.ResourceRecordSet
	gone := map[string]*r53Record{}
	for _, ch := range in.ChangeBatch.Changes {
		set := *ch.ResourceRecordSet
		name := fqdn(aws.ToString(set.Name))
		if name != z.name && !strings.HasSuffix(name, "."+z.name) {
			problems = append(problems, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.name))
			continue
		}
		set.Name = aws.String(name)
		key := recordKey(set)
		desc := fmt.Sprintf("[name='%s', type='%s']", name, set.Type)
		if ch.Action == r53t.ChangeActionCreate || ch.Action == r53t.ChangeActionUpsert {
			if set.Type == r53t.RRTypeTxt || set.Type == r53t.RRTypeSpf {
				for _, rr := range set.ResourceRecords {
					if p := txtProblem(aws.ToString(rr.Value)); p != "" {
						problems = append(problems, p)
					}
				}
			}
			if set.AliasTarget != nil {
				if p := s.aliasProblem(z, next, set); p != "" {
					problems = append(problems, p)
					continue
				}
			}
		}
		switch ch.Action {
		case r53t.ChangeActionCreate:
			if _, dup := next[key]; dup {
				problems = append(problems, "Tried to create resource record set "+desc+" but it already exists")
				continue
			}
			next[key] = &r53Record{set: set, visible: visible, prev: z.seen(key, now)}
		case r53t.ChangeActionUpsert:
			next[key] = &r53Record{set: set, visible: visible, prev: z.seen(key, now)}
		case r53t.ChangeActionDelete:
			old, ok := next[key]
			if !ok || !sameRecordSet(old.set, set) {
				problems = append(problems, "Tried to delete resource record set "+desc+" but it was not found")
				continue
			}
			delete(next, key)
			if was := z.seen(key, now); was != nil {
				gone[key] = &r53Record{set: was.set, visible: was.visible, gone: visible}
			}
		default:
			problems = append(problems, "Invalid action "+string(ch.Action))
			continue
		}
		touched = append(touched, set)
	}
	problems = append(problems, cnameProblems(z, next, touched)...)
	if len(problems) > 0 {
		return nil, apiError("InvalidChangeBatch", "[%s]", strings.Join(problems, ", "))
	}
	for k, r := range next {
		if r.prev != nil && r.prev.prev != nil {
			r.prev.prev = nil // one generation is all resolvers can see
		}
		if _, ok := gone[k]; !ok && r.visible.Equal(visible) {
			delete(z.fading, k)
		}
	}
	if z.fading == nil {
		z.fading = map[string]*r53Record{}
	}
	for k, r := range gone {
		if _, back := next[k]; !back {
			z.fading[k] = r
		}
	}
	z.records = next
	s.c.seq++
	id := fmt.Sprintf("C%020X", uint64(s.c.seq)*0x9e3779b97f4a7c15)[:21]
	s.changes[id] = &r53Change{id: id, insync: visible, at: now}
	return &route53.ChangeResourceRecordSetsOutput{ChangeInfo: &r53t.ChangeInfo{Id: aws.String("/change/" + id), Status: r53t.ChangeStatusPending, SubmittedAt: aws.Time(now)}}, nil
}

func (s *route53Sim) GetChange(_ context.Context, in *route53.GetChangeInput) (*route53.GetChangeOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := strings.TrimPrefix(strings.TrimPrefix(aws.ToString(in.Id), "/change/"), "change/")
	ch, ok := s.changes[id]
	if !ok {
		return nil, apiError("NoSuchChange", "A change with the specified change ID does not exist.")
	}
	st := r53t.ChangeStatusPending
	if s.c.now().After(ch.insync) {
		st = r53t.ChangeStatusInsync
	}
	return &route53.GetChangeOutput{ChangeInfo: &r53t.ChangeInfo{Id: aws.String("/change/" + id), Status: st, SubmittedAt: aws.Time(ch.at)}}, nil
}

// ListResourceRecordSets lists a zone's record sets in Route 53's order (by
// name with the labels reversed, then type), from StartRecordName/Type.
func (s *route53Sim) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput) (*route53.ListResourceRecordSetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	z, ok := s.zones[zoneID(aws.ToString(in.HostedZoneId))]
	if !ok {
		return nil, apiError("NoSuchHostedZone", "No hosted zone found with ID: %s", aws.ToString(in.HostedZoneId))
	}
	recs := make([]*r53Record, 0, len(z.records))
	for _, r := range z.records {
		recs = append(recs, r)
	}
	order := func(r *r53Record) string { return reversedLabels(aws.ToString(r.set.Name)) + "|" + string(r.set.Type) }
	sort.Slice(recs, func(i, j int) bool { return order(recs[i]) < order(recs[j]) })
	start := ""
	if in.StartRecordName != nil {
		start = reversedLabels(fqdn(aws.ToString(in.StartRecordName))) + "|" + string(in.StartRecordType)
	}
	limit := 300
	if in.MaxItems != nil {
		limit = int(aws.ToInt32(in.MaxItems))
	}
	out := &route53.ListResourceRecordSetsOutput{MaxItems: aws.Int32(int32(limit))}
	for _, r := range recs {
		if order(r) < start {
			continue
		}
		if len(out.ResourceRecordSets) == limit {
			out.IsTruncated = true
			out.NextRecordName, out.NextRecordType = r.set.Name, r.set.Type
			break
		}
		out.ResourceRecordSets = append(out.ResourceRecordSets, r.set)
	}
	return out, nil
}
