package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func domainConfig(domain string) *config.Config {
	cfg := cmpSmallConfig(config.ModeSingle)
	cfg.Domain.Name = domain
	return cfg
}

// zoneRecords lists a zone's records other than SOA and NS, as "name type value".
func zoneRecords(t *testing.T, r *rig, zone string) []string {
	t.Helper()
	out, err := r.clients().Route53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range out.ResourceRecordSets {
		if s.Type == r53t.RRTypeSoa || s.Type == r53t.RRTypeNs {
			continue
		}
		got = append(got, strings.TrimSpace(fmt.Sprintf("%s %s %s", aws.ToString(s.Name), s.Type, setValue(&s))))
	}
	sort.Strings(got)
	return got
}

// certificates lists the account's certificates as "domain status".
func certificates(t *testing.T, r *rig) []string {
	t.Helper()
	out, err := r.clients().ACM.ListCertificates(context.Background(), &acm.ListCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range out.CertificateSummaryList {
		got = append(got, aws.ToString(c.DomainName)+" "+string(c.Status))
	}
	sort.Strings(got)
	return got
}

func httpsCertificate(t *testing.T, r *rig) string {
	t.Helper()
	out, err := r.clients().ELB.DescribeListeners(context.Background(), &elbv2.DescribeListenersInput{ListenerArns: []string{cmpRecord(t, r, "listener-https")}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Listeners[0].Certificates[0].CertificateArn)
}

func addRecord(t *testing.T, r *rig, zone, name, typ, value string) {
	t.Helper()
	_, err := r.clients().Route53.ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		ChangeBatch: &r53t.ChangeBatch{Changes: []r53t.Change{{Action: r53t.ChangeActionCreate, ResourceRecordSet: &r53t.ResourceRecordSet{
			Name: aws.String(name), Type: r53t.RRType(typ), TTL: aws.Int64(60), ResourceRecords: []r53t.ResourceRecord{{Value: aws.String(value)}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// A domain in a Route 53 zone of the account: up requests the certificate,
// validates it through the zone, serves HTTPS with it, points the domain at
// the load balancer; a second up changes nothing; destroy removes exactly
// what up made, leaving the user's own records.
func TestDomainInRoute53(t *testing.T) {
	r := newRig(t, domainConfig("board.example.com"))
	zone := r.cloud.CreateZone("example.com")
	other := r.cloud.CreateZone("example.org")
	addRecord(t, r, zone, "www.example.com", "CNAME", "elsewhere.example.net")
	cmpUp(t, r)

	if got := certificates(t, r); strings.Join(got, ",") != "board.example.com ISSUED" {
		t.Fatalf("certificates %v", got)
	}
	cert := cmpRecord(t, r, CertificateNode("board.example.com"))
	if got := httpsCertificate(t, r); got != cert {
		t.Fatalf("HTTPS listener serves %s, want the domain's certificate %s", got, cert)
	}
	recs := zoneRecords(t, r, zone)
	want := map[string]bool{"board.example.com. A": false, "_wbo-deploy.board.example.com. TXT": false, "www.example.com. CNAME": false}
	validation := 0
	for _, rec := range recs {
		f := strings.Fields(rec)
		if _, ok := want[f[0]+" "+f[1]]; ok {
			want[f[0]+" "+f[1]] = true
		}
		if strings.HasSuffix(f[0], ".board.example.com.") && f[1] == "CNAME" && strings.HasSuffix(f[2], ".acm-validations.aws.") {
			validation++
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("no %s record: %v", k, recs)
		}
	}
	if validation != 1 {
		t.Errorf("%d validation CNAMEs: %v", validation, recs)
	}
	if got := zoneRecords(t, r, other); len(got) != 0 {
		t.Errorf("records written in another zone: %v", got)
	}
	st := cmpStatus(t, r)
	for _, name := range []string{dnsZoneNode, CertificateNode("board.example.com"), CertificateIssuedNode("board.example.com"),
		DNSValidationNode("board.example.com"), DNSAliasNode("board.example.com")} {
		if st[name].Status != StatusOK {
			t.Errorf("status of %s: %s %s", name, st[name].Status, st[name].Reason)
		}
	}
	if u := st["alb"].Info["url"]; u != "https://board.example.com" {
		t.Errorf("URL %q", u)
	}

	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up: %v", m)
	}

	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	if got := zoneRecords(t, r, zone); strings.Join(got, ",") != "www.example.com. CNAME elsewhere.example.net." {
		t.Errorf("after destroy the zone holds %v; want only the user's own record", got)
	}
	if got := certificates(t, r); len(got) != 0 {
		t.Errorf("certificates left: %v", got)
	}
}

// The longest suffix wins, and domain.hosted_zone_id overrides the search.
func TestDomainZoneLookup(t *testing.T) {
	r := newRig(t, domainConfig("a.team.example.com"))
	parent := r.cloud.CreateZone("example.com")
	team := r.cloud.CreateZone("team.example.com")
	e, done := r.engine(computeGraph(r.cfg))
	z, err := lookupZone(context.Background(), e.Env, "a.team.example.com")
	done()
	if err != nil || z.id != team {
		t.Fatalf("zone %+v %v, want %s", z, err, team)
	}
	r.cfg.Domain.HostedZoneID = "/hostedzone/" + parent
	e, done = r.engine(computeGraph(r.cfg))
	z, err = lookupZone(context.Background(), e.Env, "a.team.example.com")
	done()
	if err != nil || z.id != parent {
		t.Fatalf("zone %+v %v, want %s", z, err, parent)
	}
	r.cfg.Domain.HostedZoneID = r.cloud.CreateZone("example.org")
	e, done = r.engine(computeGraph(r.cfg))
	_, err = lookupZone(context.Background(), e.Env, "a.team.example.com")
	done()
	if err == nil || !strings.Contains(err.Error(), "does not hold a.team.example.com") {
		t.Fatalf("a zone of another name: %v", err)
	}
}

// A record of the domain that the stack did not make is never overwritten:
// up stops and says so, and the record is left as it was.
func TestDomainForeignRecordIsNotOverwritten(t *testing.T) {
	r := newRig(t, domainConfig("board.example.com"))
	zone := r.cloud.CreateZone("example.com")
	// Someone else's A record of the name.
	_, err := r.clients().Route53.ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		ChangeBatch: &r53t.ChangeBatch{Changes: []r53t.Change{{Action: r53t.ChangeActionCreate, ResourceRecordSet: &r53t.ResourceRecordSet{
			Name: aws.String("board.example.com"), Type: r53t.RRTypeA, TTL: aws.Int64(60), ResourceRecords: []r53t.ResourceRecord{{Value: aws.String("192.0.2.10")}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	res := r.up(computeGraph(r.cfg))
	var fe *ForeignRecordError
	if !errors.As(res.Err(), &fe) {
		t.Fatalf("up: %v, want a ForeignRecordError", res.Err())
	}
	if !strings.Contains(res.Err().Error(), "did not make") {
		t.Errorf("message: %v", res.Err())
	}
	found := false
	for _, rec := range zoneRecords(t, r, zone) {
		found = found || rec == "board.example.com. A 192.0.2.10."
	}
	if !found {
		t.Errorf("the user's record changed: %v", zoneRecords(t, r, zone))
	}
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	if got := zoneRecords(t, r, zone); strings.Join(got, ",") != "board.example.com. A 192.0.2.10." {
		t.Errorf("after destroy: %v", got)
	}
}

// A new domain.name: the new certificate is issued and the HTTPS listener
// switches to it before the old certificate and records are deleted; plan
// shows that order.
func TestDomainChange(t *testing.T) {
	r := newRig(t, domainConfig("old.example.com"))
	zone := r.cloud.CreateZone("example.com")
	cmpUp(t, r)
	oldCert := httpsCertificate(t, r)

	r.cfg.Domain.Name = "new.example.com"
	g := computeGraph(r.cfg)
	e, done := r.engine(g)
	plan := e.Plan(context.Background(), false)
	done()
	if err := plan.Err(); err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, n := range plan.Nodes {
		pos[string(n.Action)+" "+n.Name] = i
	}
	order := []string{"create " + CertificateNode("new.example.com"), "update listener-https", "delete " + CertificateNode("old.example.com")}
	for i := 1; i < len(order); i++ {
		a, okA := pos[order[i-1]]
		b, okB := pos[order[i]]
		if !okA || !okB || a > b {
			t.Fatalf("plan order: want %v in that order, got %v", order, pos)
		}
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	newCert := httpsCertificate(t, r)
	if newCert == oldCert {
		t.Fatal("the listener still serves the old certificate")
	}
	// In the calls: the new certificate is requested, the listener is
	// modified, and only then is the old certificate deleted (never refused
	// as in use).
	at := map[string]int{}
	for i, c := range r.cloud.Calls() {
		if _, seen := at[c.Service+"."+c.Operation]; !seen && c.Performed {
			at[c.Service+"."+c.Operation] = i
		}
		if c.Operation == "DeleteCertificate" && c.Err != "" {
			t.Errorf("DeleteCertificate answered %s", c.Err)
		}
	}
	req, okR := at["ACM.RequestCertificate"]
	mod, okM := at["Elastic Load Balancing v2.ModifyListener"]
	del, okD := at["ACM.DeleteCertificate"]
	if !okR || !okM || !okD || !(req < mod && mod < del) {
		t.Fatalf("calls out of order: request %d, modify listener %d, delete certificate %d", req, mod, del)
	}
	if got := certificates(t, r); strings.Join(got, ",") != "new.example.com ISSUED" {
		t.Errorf("certificates %v", got)
	}
	for _, rec := range zoneRecords(t, r, zone) {
		if strings.Contains(rec, "old.example.com") {
			t.Errorf("record of the old domain left: %s", rec)
		}
	}
	for _, rec := range r.records() {
		if strings.Contains(rec.Name, "old.example.com") {
			t.Errorf("state still has %s", rec.Name)
		}
	}
}

// Crash at every call of the domain's kinds (ACM, Route 53, the HTTPS
// listener), before or after AWS acted: the re-run converges to one
// certificate, the records once, and destroy leaves nothing.
func TestDomainCrashAtEveryCall(t *testing.T) {
	cfg := func() *config.Config { return domainConfig("board.example.com") }
	probe := newRig(t, cfg())
	probe.cloud.CreateZone("example.com")
	probe.cloud.ResetCalls()
	cmpUp(t, probe)
	want := probe.owned()
	var points []int
	for i, op := range probe.cloud.MutatingCalls() {
		if strings.HasPrefix(op, "ACM.") || strings.HasPrefix(op, "Route 53.") || op == "Elastic Load Balancing v2.CreateListener" {
			points = append(points, i+1)
		}
	}
	if len(points) < 4 {
		t.Fatalf("only %d crash points: %v", len(points), probe.cloud.MutatingCalls())
	}
	for _, err := range cmpCrashAll(points, func(mode awssim.CrashMode, k int) error {
		r := newRig(t, cfg())
		zone := r.cloud.CreateZone("example.com")
		r.cloud.ResetCalls()
		if err := cmpCrashOnce2(r, mode, k, want); err != nil {
			return err
		}
		if got := zoneRecords(t, r, zone); len(got) != 0 {
			return fmt.Errorf("mode %d k=%d: records left after destroy: %v", mode, k, got)
		}
		if got := certificates(t, r); len(got) != 0 {
			return fmt.Errorf("mode %d k=%d: certificates left after destroy: %v", mode, k, got)
		}
		return nil
	}) {
		t.Error(err)
	}
}

// domainCalls are the crash points of a run: its ACM and Route 53 calls and
// the HTTPS listener's creation or modification.
func domainCalls(calls []string) []int {
	var points []int
	for i, op := range calls {
		if strings.HasPrefix(op, "ACM.") || strings.HasPrefix(op, "Route 53.") ||
			op == "Elastic Load Balancing v2.CreateListener" || op == "Elastic Load Balancing v2.ModifyListener" || op == "Elastic Load Balancing v2.DeleteListener" {
			points = append(points, i+1)
		}
	}
	return points
}

// crashThenRerun runs run (up or destroy) with a crash at the k-th mutating
// call, checks that the crash happened, then runs it again to completion.
func crashThenRerun(r *rig, mode awssim.CrashMode, k int, run func(*Graph) *Result) error {
	g := computeGraph(r.cfg)
	r.cloud.CrashAt(k, mode)
	if err := run(g).Err(); err == nil || !r.cloud.Crashed() {
		return fmt.Errorf("mode %d k=%d: the crash did not happen (%v)", mode, k, err)
	}
	r.cloud.Revive()
	if err := run(g).Err(); err != nil {
		return fmt.Errorf("mode %d k=%d: re-run: %v", mode, k, err)
	}
	return nil
}

// A domain change through a crash at every call of the change: the re-run
// leaves only the new certificate, serving, and only the new name's records.
func TestDomainChangeCrashAtEveryCall(t *testing.T) {
	prep := func() (*rig, string) {
		r := newRig(t, domainConfig("old.example.com"))
		zone := r.cloud.CreateZone("example.com")
		cmpUp(t, r)
		r.cfg.Domain.Name = "new.example.com"
		r.cloud.ResetCalls()
		return r, zone
	}
	probe, _ := prep()
	cmpUp(t, probe)
	points := domainCalls(probe.cloud.MutatingCalls())
	if len(points) < 6 {
		t.Fatalf("only %d crash points: %v", len(points), probe.cloud.MutatingCalls())
	}
	for _, err := range cmpCrashAll(points, func(mode awssim.CrashMode, k int) error {
		r, zone := prep()
		if err := crashThenRerun(r, mode, k, r.up); err != nil {
			return err
		}
		if got := certificates(t, r); strings.Join(got, ",") != "new.example.com ISSUED" {
			return fmt.Errorf("mode %d k=%d: certificates %v", mode, k, got)
		}
		if httpsCertificate(t, r) != cmpRecord(t, r, CertificateNode("new.example.com")) {
			return fmt.Errorf("mode %d k=%d: the listener does not serve the new certificate", mode, k)
		}
		for _, rec := range zoneRecords(t, r, zone) {
			if strings.Contains(rec, "old.example.com") {
				return fmt.Errorf("mode %d k=%d: left %s", mode, k, rec)
			}
		}
		if err := cmpStateAgrees(r); err != nil {
			return fmt.Errorf("mode %d k=%d: %v", mode, k, err)
		}
		return nil
	}) {
		t.Error(err)
	}
}

// destroy through a crash at every call of the domain's kinds: the next
// destroy leaves no certificate and none of the stack's records, and the
// user's own record untouched.
func TestDomainDestroyCrashAtEveryCall(t *testing.T) {
	prep := func() (*rig, string) {
		r := newRig(t, domainConfig("board.example.com"))
		zone := r.cloud.CreateZone("example.com")
		addRecord(t, r, zone, "www.example.com", "CNAME", "elsewhere.example.net")
		cmpUp(t, r)
		r.cloud.ResetCalls()
		return r, zone
	}
	probe, _ := prep()
	if err := probe.destroy(computeGraph(probe.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	points := domainCalls(probe.cloud.MutatingCalls())
	if len(points) < 4 {
		t.Fatalf("only %d crash points: %v", len(points), probe.cloud.MutatingCalls())
	}
	for _, err := range cmpCrashAll(points, func(mode awssim.CrashMode, k int) error {
		r, zone := prep()
		if err := crashThenRerun(r, mode, k, r.destroy); err != nil {
			return err
		}
		if got := zoneRecords(t, r, zone); strings.Join(got, ",") != "www.example.com. CNAME elsewhere.example.net." {
			return fmt.Errorf("mode %d k=%d: zone holds %v", mode, k, got)
		}
		if got := certificates(t, r); len(got) != 0 {
			return fmt.Errorf("mode %d k=%d: certificates %v", mode, k, got)
		}
		return nil
	}) {
		t.Error(err)
	}
}

// Without the state file, destroy finds the stack's certificate by its tags
// and its records by their ownership TXT records, and deletes exactly those.
func TestDomainDestroyWithoutState(t *testing.T) {
	r := newRig(t, domainConfig("board.example.com"))
	zone := r.cloud.CreateZone("example.com")
	addRecord(t, r, zone, "www.example.com", "CNAME", "elsewhere.example.net")
	cmpUp(t, r)
	if err := removeFile(r.path); err != nil {
		t.Fatal(err)
	}
	e, done := r.engine(computeGraph(r.cfg))
	found, err := e.Discover(context.Background())
	if err != nil {
		done()
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range found {
		kinds[f.Kind]++
	}
	if kinds["acm.certificate"] != 1 || kinds["route53.record"] != 2 {
		done()
		t.Fatalf("discovered %v", kinds)
	}
	res := e.Destroy(context.Background(), found)
	done()
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if got := zoneRecords(t, r, zone); strings.Join(got, ",") != "www.example.com. CNAME elsewhere.example.net." {
		t.Errorf("zone holds %v", got)
	}
	if got := certificates(t, r); len(got) != 0 {
		t.Errorf("certificates %v", got)
	}
}

// DNS elsewhere: up requests the certificate, makes nothing in Route 53, and
// stops with the two records to create; once they resolve, a later up
// finishes with HTTPS on the certificate. Through a crash at every call of
// that second up, it still converges.
func TestDomainExternalDNS(t *testing.T) {
	prep := func() (*rig, *DNSRecordsNeeded) {
		r := newRig(t, domainConfig("board.example.com"))
		res := r.up(computeGraph(r.cfg))
		var need *DNSRecordsNeeded
		if !errors.As(res.Err(), &need) {
			t.Fatalf("first up: %v, want the records to create", res.Err())
		}
		return r, need
	}
	r, need := prep()
	if len(need.Records) != 2 || need.Records[0].Type != "CNAME" || !strings.HasSuffix(need.Records[0].Value, ".acm-validations.aws.") ||
		need.Records[1].Name != "board.example.com." || need.Records[1].Value != fqdnOf(recordAttr(t, r, "alb", "dns_name")) {
		t.Fatalf("records to create: %+v", need.Records)
	}
	if got := certificates(t, r); strings.Join(got, ",") != "board.example.com PENDING_VALIDATION" {
		t.Fatalf("certificates %v", got)
	}
	st := cmpStatus(t, r)
	if s := st[CertificateIssuedNode("board.example.com")]; s.Status != StatusCreating || !strings.Contains(s.Reason, need.Records[0].Name) {
		t.Fatalf("status of the certificate: %+v", s)
	}
	// A second up without the records: still waiting, still no Route 53 call that writes.
	r.cloud.ResetCalls()
	var again *DNSRecordsNeeded
	if res := r.up(computeGraph(r.cfg)); !errors.As(res.Err(), &again) {
		t.Fatalf("second up: %v", res.Err())
	}
	for _, c := range r.cloud.MutatingCalls() {
		if strings.HasPrefix(c, "Route 53.") || c == "ACM.RequestCertificate" {
			t.Errorf("second up made %s", c)
		}
	}
	publish := func(r *rig, need *DNSRecordsNeeded) {
		for _, rec := range need.Records {
			r.cloud.PublishExternalDNS(rec.Name, rec.Type, rec.Value)
		}
	}
	publish(r, need)
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if got := certificates(t, r); strings.Join(got, ",") != "board.example.com ISSUED" {
		t.Fatalf("certificates %v", got)
	}
	if httpsCertificate(t, r) != cmpRecord(t, r, CertificateNode("board.example.com")) {
		t.Fatal("the HTTPS listener does not serve the domain's certificate")
	}
	want := r.owned()
	points := domainCalls(r.cloud.MutatingCalls())
	if len(points) < 1 {
		t.Fatalf("no crash points: %v", r.cloud.MutatingCalls())
	}
	for _, err := range cmpCrashAll(points, func(mode awssim.CrashMode, k int) error {
		r, need := prep()
		publish(r, need)
		r.cloud.ResetCalls()
		return cmpCrashOnce2(r, mode, k, want)
	}) {
		t.Error(err)
	}
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	if got := certificates(t, r); len(got) != 0 {
		t.Errorf("certificates left: %v", got)
	}
}

func recordAttr(t *testing.T, r *rig, name, attr string) string {
	t.Helper()
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec.Attrs[attr]
		}
	}
	t.Fatalf("no %s in state", name)
	return ""
}

// A lost answer (AWS acted, the client saw an error and the SDK retried or
// the run failed) at each ACM and Route 53 call: a re-run, if needed, ends
// with one certificate and the records once, as without the fault.
func TestDomainLostResponses(t *testing.T) {
	cfg := func() *config.Config { return domainConfig("board.example.com") }
	probe := newRig(t, cfg())
	probe.cloud.CreateZone("example.com")
	probe.cloud.ResetCalls()
	cmpUp(t, probe)
	want := probe.owned()
	points := domainCalls(probe.cloud.MutatingCalls())
	for _, k := range points {
		r := newRig(t, cfg())
		zone := r.cloud.CreateZone("example.com")
		r.cloud.ResetCalls()
		r.cloud.LoseResponseAt(k)
		if err := r.up(computeGraph(r.cfg)).Err(); err != nil {
			if err := r.up(computeGraph(r.cfg)).Err(); err != nil {
				t.Fatalf("k=%d: re-run: %v", k, err)
			}
		}
		if got := r.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("k=%d: got %v, want %v", k, got, want)
		}
		if got := certificates(t, r); strings.Join(got, ",") != "board.example.com ISSUED" {
			t.Errorf("k=%d: certificates %v", k, got)
		}
		if n := len(zoneRecords(t, r, zone)); n != 4 {
			t.Errorf("k=%d: %d records: %v", k, n, zoneRecords(t, r, zone))
		}
	}
}

// The domain given up: up deletes its certificate and records, the HTTPS
// listener goes, and HTTP serves the app again.
func TestDomainGivenUp(t *testing.T) {
	r := newRig(t, domainConfig("board.example.com"))
	zone := r.cloud.CreateZone("example.com")
	cmpUp(t, r)
	r.cfg.Domain.Name = ""
	cmpUp(t, r)
	if got := zoneRecords(t, r, zone); len(got) != 0 {
		t.Errorf("records left: %v", got)
	}
	if got := certificates(t, r); len(got) != 0 {
		t.Errorf("certificates left: %v", got)
	}
	out, err := r.clients().ELB.DescribeListeners(context.Background(), &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(cmpRecord(t, r, "alb"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Listeners) != 1 || aws.ToInt32(out.Listeners[0].Port) != 80 || out.Listeners[0].DefaultActions[0].Type != "forward" {
		t.Fatalf("listeners after the domain is given up: %+v", out.Listeners)
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up after: %v", m)
	}
}

// From a certificate of one's own (load_balancer.certificate_arn) to
// domain.name: the listener switches to the certificate up requests, and the
// user's certificate is left alone.
func TestDomainReplacesOwnCertificate(t *testing.T) {
	cfg := cmpSmallConfig(config.ModeSingle)
	r := newRig(t, cfg)
	r.cloud.CreateZone("example.com")
	own := r.cloud.ImportCertificate("board.example.com", time.Now().Add(200*24*time.Hour))
	r.cfg.LoadBalancer.CertificateARN = own
	cmpUp(t, r)
	if httpsCertificate(t, r) != own {
		t.Fatal("the listener does not serve load_balancer.certificate_arn")
	}
	r.cfg.LoadBalancer.CertificateARN = ""
	r.cfg.Domain.Name = "board.example.com"
	cmpUp(t, r)
	if got := httpsCertificate(t, r); got == own || got != cmpRecord(t, r, CertificateNode("board.example.com")) {
		t.Fatalf("listener serves %s", got)
	}
	if got := certificates(t, r); len(got) != 2 {
		t.Fatalf("certificates %v: the user's must stay", got)
	}
}

// domain.hosted_zone_id moved to another zone of the same name (a zone
// re-created, a delegation moved): the records are written in the new zone
// and the stack's records in the old one are deleted.
func TestDomainZoneMoved(t *testing.T) {
	r := newRig(t, domainConfig("board.example.com"))
	first := r.cloud.CreateZone("example.com")
	r.cfg.Domain.HostedZoneID = first
	cmpUp(t, r)
	second := r.cloud.CreateZone("example.com")
	r.cfg.Domain.HostedZoneID = second
	cmpUp(t, r)
	if got := zoneRecords(t, r, first); len(got) != 0 {
		t.Errorf("left in the old zone: %v", got)
	}
	if got := zoneRecords(t, r, second); len(got) != 4 {
		t.Errorf("new zone holds %v", got)
	}
}
