package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// testCerts: one ISSUED certificate per simulated account (the listeners'
// certificate must exist in ACM), the same on every call for that account.
var testCerts sync.Map

func testCertARN(r *rig) string {
	if v, ok := testCerts.Load(r.cloud); ok {
		return v.(string)
	}
	v, _ := testCerts.LoadOrStore(r.cloud, r.cloud.ImportCertificate("wbo.example.com", time.Now().Add(365*24*time.Hour)))
	return v.(string)
}

// lbConfig is the default configuration without access logs (the log bucket
// belongs to the data tier, whose nodes these tests do not include).
func lbConfig() *config.Config {
	c := config.Default()
	c.Region = "us-east-1"
	c.LoadBalancer.AccessLogs = false
	return &c
}

// lbGraph is the network tier and the load balancer tier.
func lbGraph(cfg *config.Config) *Graph {
	g := NewGraph()
	for _, n := range Build(cfg).Nodes() {
		if strings.HasPrefix(n.Kind, "ec2.") || strings.HasPrefix(n.Kind, "elbv2.") || n.Kind == "ecs.reshard" {
			g.Add(n)
		}
	}
	return g
}

// elb returns an ELBv2 client on the rig's account, for assertions.
func lbClient(r *rig) awsclients.ELBv2API { return r.clients().ELB }

func lbRecordID(r *rig, name string) string {
	r.t.Helper()
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec.ID
		}
	}
	r.t.Fatalf("%s is not in state", name)
	return ""
}

func lbStatus(r *rig, g *Graph) map[string]ResourceStatus {
	e, done := r.engine(g)
	defer done()
	out := map[string]ResourceStatus{}
	for _, s := range e.Status(context.Background(), e.Env.store.All()) {
		out[s.Name] = s
	}
	return out
}

func lbAttrs(t *testing.T, r *rig, arn string) map[string]string {
	t.Helper()
	out, err := lbClient(r).DescribeLoadBalancerAttributes(context.Background(), &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range out.Attributes {
		m[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return m
}

func tgAttrs(t *testing.T, r *rig, arn string) map[string]string {
	t.Helper()
	out, err := lbClient(r).DescribeTargetGroupAttributes(context.Background(), &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range out.Attributes {
		m[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return m
}

func lbExpect(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %s = %q, want %q", what, k, got[k], v)
		}
	}
}

func lbUp(t *testing.T, r *rig, g *Graph) {
	t.Helper()
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
}

// assertLoadBalancer checks the load balancer and its attributes field by field.
func assertLoadBalancer(t *testing.T, r *rig, idle, protect string) lbt.LoadBalancer {
	t.Helper()
	arn := lbRecordID(r, "alb")
	out, err := lbClient(r).DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	lb := out.LoadBalancers[0]
	var subnets []string
	for _, z := range lb.AvailabilityZones {
		subnets = append(subnets, aws.ToString(z.SubnetId))
	}
	sort.Strings(subnets)
	want := []string{lbRecordID(r, "subnet-public-0"), lbRecordID(r, "subnet-public-1")}
	sort.Strings(want)
	switch {
	case aws.ToString(lb.LoadBalancerName) != r.cfg.Names().LoadBalancer:
		t.Errorf("name %s", aws.ToString(lb.LoadBalancerName))
	case lb.Scheme != lbt.LoadBalancerSchemeEnumInternetFacing || lb.Type != lbt.LoadBalancerTypeEnumApplication || lb.IpAddressType != lbt.IpAddressTypeIpv4:
		t.Errorf("scheme %s type %s ip %s", lb.Scheme, lb.Type, lb.IpAddressType)
	case lb.State.Code != lbt.LoadBalancerStateEnumActive:
		t.Errorf("state %s after up", lb.State.Code)
	case strings.Join(subnets, ",") != strings.Join(want, ","):
		t.Errorf("subnets %v, want the public ones %v", subnets, want)
	case len(lb.SecurityGroups) != 1 || lb.SecurityGroups[0] != lbRecordID(r, "sg-alb"):
		t.Errorf("security groups %v", lb.SecurityGroups)
	}
	lbExpect(t, "load balancer", lbAttrs(t, r, arn), map[string]string{
		"idle_timeout.timeout_seconds":                    idle,
		"routing.http.drop_invalid_header_fields.enabled": "true",
		"deletion_protection.enabled":                     protect,
		"access_logs.s3.enabled":                          "false",
	})
	var rec map[string]string
	for _, x := range r.records() {
		if x.Name == "alb" {
			rec = x.Attrs
		}
	}
	if rec["dns_name"] != aws.ToString(lb.DNSName) || rec["name"] != "wbo-alb" || !strings.HasPrefix(rec["arn_suffix"], "app/wbo-alb/") ||
		!strings.HasSuffix(arn, rec["arn_suffix"]) {
		t.Errorf("alb attrs in state: %v", rec)
	}
	return lb
}

// assertTargetGroups checks every target group field by field.
func assertTargetGroups(t *testing.T, r *rig, path string, attrs map[string]string) []string {
	t.Helper()
	var arns []string
	for i, name := range r.cfg.Names().TargetGroups {
		node := fmt.Sprintf("tg-shard-%d", i)
		arn := lbRecordID(r, node)
		arns = append(arns, arn)
		out, err := lbClient(r).DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		tg := out.TargetGroups[0]
		got := map[string]string{
			"name": aws.ToString(tg.TargetGroupName), "protocol": string(tg.Protocol), "port": fmt.Sprint(aws.ToInt32(tg.Port)),
			"target_type": string(tg.TargetType), "vpc": aws.ToString(tg.VpcId), "hc_protocol": string(tg.HealthCheckProtocol),
			"hc_port": aws.ToString(tg.HealthCheckPort), "hc_path": aws.ToString(tg.HealthCheckPath), "matcher": aws.ToString(tg.Matcher.HttpCode),
			"interval": fmt.Sprint(aws.ToInt32(tg.HealthCheckIntervalSeconds)), "timeout": fmt.Sprint(aws.ToInt32(tg.HealthCheckTimeoutSeconds)),
			"healthy": fmt.Sprint(aws.ToInt32(tg.HealthyThresholdCount)), "unhealthy": fmt.Sprint(aws.ToInt32(tg.UnhealthyThresholdCount)),
		}
		lbExpect(t, node, got, map[string]string{
			"name": name, "protocol": "HTTP", "port": "80", "target_type": "ip", "vpc": lbRecordID(r, "vpc"), "hc_protocol": "HTTP",
			"hc_port": "traffic-port", "hc_path": path, "matcher": "200-399", "interval": "15", "timeout": "5", "healthy": "2", "unhealthy": "3",
		})
		want := map[string]string{
			"deregistration_delay.timeout_seconds": "30", "stickiness.enabled": "true", "stickiness.type": "lb_cookie",
			"stickiness.lb_cookie.duration_seconds": "86400",
		}
		for k, v := range attrs {
			want[k] = v
		}
		lbExpect(t, node, tgAttrs(t, r, arn), want)
	}
	return arns
}

func lbListeners(t *testing.T, r *rig) map[int32]lbt.Listener {
	t.Helper()
	out, err := lbClient(r).DescribeListeners(context.Background(), &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbRecordID(r, "alb"))})
	if err != nil {
		t.Fatal(err)
	}
	m := map[int32]lbt.Listener{}
	for _, l := range out.Listeners {
		m[aws.ToInt32(l.Port)] = l
	}
	return m
}

func assertForwardAll(t *testing.T, a lbt.Action, tgs []string, stickySeconds int32) {
	t.Helper()
	if a.Type != lbt.ActionTypeEnumForward || a.ForwardConfig == nil || len(a.ForwardConfig.TargetGroups) != len(tgs) {
		t.Fatalf("want a forward to %d target groups, got %+v", len(tgs), a)
	}
	for i, tup := range a.ForwardConfig.TargetGroups {
		if aws.ToString(tup.TargetGroupArn) != tgs[i] || aws.ToInt32(tup.Weight) != 1 {
			t.Errorf("target group %d: %s weight %d", i, aws.ToString(tup.TargetGroupArn), aws.ToInt32(tup.Weight))
		}
	}
	st := a.ForwardConfig.TargetGroupStickinessConfig
	if stickySeconds == 0 {
		if st != nil && aws.ToBool(st.Enabled) {
			t.Error("group stickiness should be off")
		}
		return
	}
	if st == nil || !aws.ToBool(st.Enabled) || aws.ToInt32(st.DurationSeconds) != stickySeconds {
		t.Errorf("group stickiness %+v, want %d s", st, stickySeconds)
	}
}

func TestLBUpIdempotentStatusDestroy(t *testing.T) {
	// On the virtual clock (testing/synctest) the load balancer's ENIs still
	// linger when destroy reaches the subnets, however slow the machine.
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, lbConfig())
		g := lbGraph(r.cfg)
		lbUp(t, r, g)
		for _, want := range []string{"load-balancer alb", "target-group tg-shard-0", "target-group tg-shard-1", "listener listener-http"} {
			found := false
			for _, o := range r.owned() {
				found = found || o == want
			}
			if !found {
				t.Fatalf("%s missing from %v", want, r.owned())
			}
		}
		lb := assertLoadBalancer(t, r, "60", "false")
		tgs := assertTargetGroups(t, r, "/", nil)
		ls := lbListeners(t, r)
		if len(ls) != 1 || ls[80].Protocol != lbt.ProtocolEnumHttp {
			t.Fatalf("listeners %v", ls)
		}
		assertForwardAll(t, ls[80].DefaultActions[0], tgs, 86400)

		r.cloud.ResetCalls()
		lbUp(t, r, g)
		if m := r.cloud.MutatingCalls(); len(m) != 0 {
			t.Fatalf("second up made mutating calls: %v", m)
		}
		st := lbStatus(r, g)
		for name, s := range st {
			// No ECS service in this tier: its target groups have no target,
			// which status reports (a stack's groups always have a service).
			if strings.HasPrefix(name, "tg-") {
				if s.Status != StatusDegraded || !strings.Contains(s.Reason, "no registered target") {
					t.Errorf("status %s without targets: %s (%s)", name, s.Status, s.Reason)
				}
				continue
			}
			if s.Status != StatusOK {
				t.Errorf("status %s: %s (%s)", name, s.Status, s.Reason)
			}
		}
		if got := st["alb"].Info["url"]; got != "http://"+aws.ToString(lb.DNSName) {
			t.Fatalf("status URL %q", got)
		}
		if got := st["tg-shard-0"].Info["targets"]; got != "0/0 healthy" {
			t.Fatalf("target info %q", got)
		}

		r.cloud.ResetCalls()
		if err := r.destroy(g).Err(); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		if got := r.owned(); len(got) != 0 {
			t.Fatalf("left after destroy: %v", got)
		}
		for _, res := range r.cloud.Inventory() {
			if res.Kind == "network-interface" || res.Service == "ELBv2" {
				t.Fatalf("left after destroy: %+v", res)
			}
		}
		// The load balancer's ENIs outlived it: destroy waited them out itself.
		blocked := false
		for _, c := range r.cloud.Calls() {
			blocked = blocked || (c.Operation == "DeleteSubnet" || c.Operation == "DeleteSecurityGroup" || c.Operation == "DetachInternetGateway") && c.Err == "DependencyViolation"
		}
		if !blocked {
			t.Fatal("expected the lingering ENIs to block a deletion at least once")
		}
		if n := len(r.records()); n != 0 {
			t.Fatalf("state still has %d records", n)
		}
		r.cloud.ResetCalls()
		if err := r.destroy(g).Err(); err != nil {
			t.Fatalf("second destroy: %v", err)
		}
		if m := r.cloud.MutatingCalls(); len(m) != 0 {
			t.Fatalf("second destroy made calls: %v", m)
		}
	})
}

func TestLBWithCertificate(t *testing.T) {
	cfg := lbConfig()
	r := newRig(t, cfg)
	cfg.LoadBalancer.CertificateARN = testCertARN(r)
	g := lbGraph(r.cfg)
	lbUp(t, r, g)
	lb := assertLoadBalancer(t, r, "60", "false")
	tgs := assertTargetGroups(t, r, "/", nil)
	ls := lbListeners(t, r)
	if len(ls) != 2 {
		t.Fatalf("want listeners on 80 and 443, got %v", ls)
	}
	https := ls[443]
	if https.Protocol != lbt.ProtocolEnumHttps || aws.ToString(https.SslPolicy) != "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" ||
		len(https.Certificates) != 1 || aws.ToString(https.Certificates[0].CertificateArn) != testCertARN(r) {
		t.Fatalf("https listener %+v", https)
	}
	assertForwardAll(t, https.DefaultActions[0], tgs, 86400)
	http := ls[80]
	a := http.DefaultActions[0]
	if http.Protocol != lbt.ProtocolEnumHttp || a.Type != lbt.ActionTypeEnumRedirect || a.RedirectConfig == nil ||
		aws.ToString(a.RedirectConfig.Protocol) != "HTTPS" || aws.ToString(a.RedirectConfig.Port) != "443" ||
		a.RedirectConfig.StatusCode != lbt.RedirectActionStatusCodeEnumHttp301 {
		t.Fatalf("http listener %+v", a)
	}
	r.cloud.ResetCalls()
	lbUp(t, r, g)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	if got := lbStatus(r, g)["alb"].Info["url"]; got != "https://"+aws.ToString(lb.DNSName) {
		t.Fatalf("status URL %q", got)
	}
	// Requests to the HTTP listener are redirected, HTTPS ones forwarded.
	_, err := r.cloud.Route(aws.ToString(http.ListenerArn), awssimRequest("/boards/x"))
	if err == nil {
		t.Fatal("the HTTP listener must redirect")
	}
	if tg, err := r.cloud.Route(aws.ToString(https.ListenerArn), awssimRequest("/boards/x")); err != nil || (tg != tgs[0] && tg != tgs[1]) {
		t.Fatalf("https routes to %s, %v", tg, err)
	}

	// Dropping the certificate: HTTP forwards again (one ModifyListener)
	// and the HTTPS listener is deleted.
	r.cfg.LoadBalancer.CertificateARN = ""
	r.cloud.ResetCalls()
	lbUp(t, r, lbGraph(r.cfg))
	// The board routing rules move from the HTTPS listener to the HTTP one
	// (as many created as deleted); the listeners change with exactly these calls.
	var listenerCalls []string
	creates, deletes := 0, 0
	for _, m := range r.cloud.MutatingCalls() {
		switch m {
		case "Elastic Load Balancing v2.CreateRule":
			creates++
		case "Elastic Load Balancing v2.DeleteRule":
			deletes++
		default:
			listenerCalls = append(listenerCalls, m)
		}
	}
	if m := strings.Join(listenerCalls, ","); m != "Elastic Load Balancing v2.ModifyListener,Elastic Load Balancing v2.DeleteListener" {
		t.Fatalf("calls %s", m)
	}
	if creates == 0 || creates != deletes {
		t.Fatalf("routing rules moved with %d creates and %d deletes", creates, deletes)
	}
	ls = lbListeners(t, r)
	if len(ls) != 1 {
		t.Fatalf("listeners %v", ls)
	}
	assertForwardAll(t, ls[80].DefaultActions[0], tgs, 86400)
	if err := r.destroy(lbGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestLBInPlaceUpdates(t *testing.T) {
	r := newRig(t, lbConfig())
	lbUp(t, r, lbGraph(r.cfg))
	lbARN := lbRecordID(r, "alb")
	steps := []struct {
		name   string
		change func(c *config.Config)
		calls  []string
	}{
		{"health check path", func(c *config.Config) { c.LoadBalancer.HealthCheckPath = "/favicon.ico" },
			[]string{"ModifyTargetGroup", "ModifyTargetGroup"}},
		{"idle timeout", func(c *config.Config) { c.LoadBalancer.IdleTimeout = 120 }, []string{"ModifyLoadBalancerAttributes"}},
		{"deregistration delay", func(c *config.Config) { c.LoadBalancer.DeregistrationDelay = 10 },
			[]string{"ModifyTargetGroupAttributes", "ModifyTargetGroupAttributes"}},
		{"stickiness duration", func(c *config.Config) { c.LoadBalancer.StickinessDuration = 3600 },
			[]string{"ModifyListener", "ModifyTargetGroupAttributes", "ModifyTargetGroupAttributes"}},
		{"deletion protection", func(c *config.Config) { c.LoadBalancer.DeletionProtection = true }, []string{"ModifyLoadBalancerAttributes"}},
	}
	for _, s := range steps {
		s.change(r.cfg)
		r.cloud.ResetCalls()
		lbUp(t, r, lbGraph(r.cfg))
		var got []string
		for _, c := range r.cloud.MutatingCalls() {
			got = append(got, strings.TrimPrefix(c, "Elastic Load Balancing v2."))
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(s.calls, ",") {
			t.Fatalf("%s: calls %v, want %v", s.name, got, s.calls)
		}
		if lbRecordID(r, "alb") != lbARN {
			t.Fatalf("%s replaced the load balancer", s.name)
		}
	}
	assertLoadBalancer(t, r, "120", "true")
	tgs := assertTargetGroups(t, r, "/favicon.ico", map[string]string{"deregistration_delay.timeout_seconds": "10", "stickiness.lb_cookie.duration_seconds": "3600"})
	assertForwardAll(t, lbListeners(t, r)[80].DefaultActions[0], tgs, 3600)
	// Stickiness off: the target groups and the listener's group stickiness.
	r.cfg.LoadBalancer.Stickiness = false
	r.cloud.ResetCalls()
	lbUp(t, r, lbGraph(r.cfg))
	if m := strings.Join(r.cloud.MutatingCalls(), ","); strings.Count(m, "ModifyTargetGroupAttributes") != 2 || strings.Count(m, "ModifyListener") != 1 || strings.Count(m, ",") != 2 {
		t.Fatalf("stickiness off: %s", m)
	}
	assertForwardAll(t, lbListeners(t, r)[80].DefaultActions[0], tgs, 0)
	assertTargetGroups(t, r, "/favicon.ico", map[string]string{"deregistration_delay.timeout_seconds": "10", "stickiness.lb_cookie.duration_seconds": "3600", "stickiness.enabled": "false"})
	// A port change cannot be made in place.
	r.cfg.App.Port = 8080
	err := r.up(lbGraph(r.cfg)).Err()
	if err == nil || !strings.Contains(err.Error(), "must be replaced to change port") {
		t.Fatalf("port change: %v", err)
	}
}

func TestLBDeletionProtection(t *testing.T) {
	cfg := lbConfig()
	cfg.LoadBalancer.DeletionProtection = true
	r := newRig(t, cfg)
	g := lbGraph(r.cfg)
	lbUp(t, r, g)
	assertLoadBalancer(t, r, "60", "true")
	res := r.destroy(g)
	err := res.Err()
	if err == nil {
		t.Fatal("destroy must refuse a protected load balancer")
	}
	var refused bool
	for _, n := range res.Failed() {
		if n.Name == "alb" {
			refused = IsDeletionProtected(n.Err)
		}
	}
	if !refused || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "load_balancer.deletion_protection") {
		t.Fatalf("refusal: %v", err)
	}
	if _, err := lbClient(r).DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbRecordID(r, "alb")}}); err != nil {
		t.Fatalf("the load balancer must still exist: %v", err)
	}
	// --force turns protection off and deletes everything.
	e, done := r.engine(g)
	e.Env.Destroy.Force = true
	res = e.Destroy(context.Background(), e.Env.store.All())
	done()
	if err := res.Err(); err != nil {
		t.Fatalf("destroy --force: %v", err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy --force: %v", got)
	}
}

func TestLBCrashAtEveryMutatingCall(t *testing.T) {
	if testing.Short() {
		t.Skip("crash sweep")
	}
	crashEveryStep(t, func(r *rig) *Graph {
		r.cfg.LoadBalancer.AccessLogs = false
		r.cfg.LoadBalancer.CertificateARN = testCertARN(r)
		return lbGraph(r.cfg)
	}, nil)
}

func TestLBStateLossAdoption(t *testing.T) {
	r := newRig(t, lbConfig())
	g := lbGraph(r.cfg)
	lbUp(t, r, g)
	want := r.owned()
	arn := lbRecordID(r, "alb")
	// Lose the state: every resource is found again by tag, name or port.
	r2 := &rig{t: t, cloud: r.cloud, cfg: r.cfg, path: r.path + ".new", scale: r.scale}
	r.cloud.ResetCalls()
	lbUp(t, r2, g)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("adoption made mutating calls: %v", m)
	}
	if lbRecordID(r2, "alb") != arn || strings.Join(r2.owned(), ",") != strings.Join(want, ",") {
		t.Fatal("adoption created duplicates")
	}
}

func TestLBForeignNameNotAdopted(t *testing.T) {
	// Another stack's network, then a load balancer named like ours there.
	other := lbConfig()
	other.Stack = "someone"
	r := newRig(t, other)
	lbUp(t, r, networkGraph(r.cfg))
	ctx := context.Background()
	_, err := lbClient(r).CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("wbo-alb"),
		Subnets: []string{lbRecordID(r, "subnet-public-0"), lbRecordID(r, "subnet-public-1")},
		Tags:    []lbt.Tag{{Key: aws.String(TagStack), Value: aws.String("someone")}}})
	if err != nil {
		t.Fatal(err)
	}
	mine := lbConfig()
	e, done := r.engine(NewGraph())
	defer done()
	e.Env.Cfg = mine
	_, err = albKind{}.Find(ctx, e.Env, &Node{Name: "alb", Kind: "elbv2.load-balancer"}, nil)
	var fe *ForeignResourceError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "wbo-alb") {
		t.Fatalf("a load balancer of another stack must not be adopted: %v", err)
	}
}

func awssimRequest(path string) awssim.HTTPRequest {
	return awssim.HTTPRequest{Method: "GET", Path: path, Host: "example.com"}
}

// withDeps is the graph of the named nodes and everything they depend on.
func withDeps(full *Graph, keep func(*Node) bool) *Graph {
	g := NewGraph()
	added := map[string]bool{}
	var visit func(n *Node)
	visit = func(n *Node) {
		if added[n.Name] {
			return
		}
		added[n.Name] = true
		for _, d := range n.Deps {
			if dn, ok := full.Node(d); ok {
				visit(dn)
			}
		}
		g.Add(n)
	}
	for _, n := range full.Nodes() {
		if keep(n) {
			visit(n)
		}
	}
	return g
}

func TestLBAccessLogAttributes(t *testing.T) {
	cfg := lbConfig()
	cfg.LoadBalancer.AccessLogs = true
	env := NewEnv(nil, cfg, nil, &Clock{Scale: 1e-4}, nil)
	for name, id := range map[string]string{"subnet-public-0": "subnet-a", "subnet-public-1": "subnet-b", "sg-alb": "sg-1", "bucket-logs": "wbo-alblogs-123456789012-us-east-1"} {
		if err := env.Record(NewRecord(&Node{Name: name}, id)); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := Build(cfg).Node("alb")
	if !strings.Contains(strings.Join(n.Deps, ","), "bucket-logs") {
		t.Fatalf("alb must depend on the log bucket: %v", n.Deps)
	}
	w, err := albKind{}.want(env, n)
	if err != nil {
		t.Fatal(err)
	}
	lbExpect(t, "wanted attributes", w.attrs, map[string]string{
		"access_logs.s3.enabled": "true", "access_logs.s3.bucket": "wbo-alblogs-123456789012-us-east-1",
		"access_logs.s3.prefix": AccessLogPrefix, "idle_timeout.timeout_seconds": "60",
	})
	cfg.LoadBalancer.AccessLogs = false
	n, _ = Build(cfg).Node("alb")
	if strings.Contains(strings.Join(n.Deps, ","), "bucket-logs") {
		t.Fatalf("no log bucket without access logs: %v", n.Deps)
	}
}

// TestLBAccessLogsEndToEnd runs the load balancer with access logs on
// against the data tier's log bucket, once that kind exists.
func TestLBAccessLogsEndToEnd(t *testing.T) {
	cfg := lbConfig()
	cfg.LoadBalancer.AccessLogs = true
	full := Build(cfg)
	b, ok := full.Node("bucket-logs")
	if _, registered := KindOf("s3.bucket"); !ok || !registered || b.Kind != "s3.bucket" {
		t.Skip("the log bucket (data tier) is not in the graph yet")
	}
	r := newRig(t, cfg)
	g := withDeps(full, func(n *Node) bool { return strings.HasPrefix(n.Kind, "elbv2.") })
	lbUp(t, r, g)
	lbExpect(t, "load balancer", lbAttrs(t, r, lbRecordID(r, "alb")), map[string]string{
		"access_logs.s3.enabled": "true", "access_logs.s3.bucket": lbRecordID(r, "bucket-logs"), "access_logs.s3.prefix": AccessLogPrefix,
	})
	r.cloud.ResetCalls()
	lbUp(t, r, g)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	if err := r.destroy(g).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestLBDestroyWithoutState(t *testing.T) {
	cfg := lbConfig()
	r := newRig(t, cfg)
	cfg.LoadBalancer.CertificateARN = testCertARN(r)
	g := lbGraph(r.cfg)
	lbUp(t, r, g)
	names := []string{"alb", "tg-shard-0", "tg-shard-1", "listener-http", "listener-https"}
	ids := map[string]string{}
	for _, name := range names {
		ids[name] = lbRecordID(r, name)
	}
	e, done := r.engine(g)
	defer done()
	recs, err := e.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, rec := range recs {
		if strings.HasPrefix(rec.Kind, "elbv2.") {
			found[rec.Name] = rec.ID
		}
	}
	for _, name := range names {
		if found[name] != ids[name] {
			t.Fatalf("discover %s = %q, state has %q", name, found[name], ids[name])
		}
	}
	if err := e.Destroy(context.Background(), recs).Err(); err != nil {
		t.Fatalf("destroy from discovery: %v", err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
}
