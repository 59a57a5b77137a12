package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// albKind provisions the internet-facing Application Load Balancer in the
// public subnets with the load balancer security group, and converges its
// attributes: idle timeout, dropping invalid header fields, deletion
// protection and access logs to the stack's log bucket.
type albKind struct{}

func init() { Register(albKind{}) }

func (albKind) Type() string { return "elbv2.load-balancer" }

// AccessLogPrefix is the key prefix of the load balancer's access logs in
// the log bucket ("" = none): ELB writes to
// <bucket>/[<prefix>/]AWSLogs/<account>/elasticloadbalancing/<region>/...
// (ALB user guide, "Access logs"). The log bucket's policy must grant that
// path.
const AccessLogPrefix = ""

// Load balancer attribute keys (ELBv2 API reference, LoadBalancerAttribute).
const (
	attrIdleTimeout     = "idle_timeout.timeout_seconds"
	attrDropInvalid     = "routing.http.drop_invalid_header_fields.enabled"
	attrDeletionProtect = "deletion_protection.enabled"
	attrLogsEnabled     = "access_logs.s3.enabled"
	attrLogsBucket      = "access_logs.s3.bucket"
	attrLogsPrefix      = "access_logs.s3.prefix"
)

// DeletionProtectedError refuses to delete a load balancer whose deletion
// protection is on (destroy without --force).
type DeletionProtectedError struct{ Name, ARN string }

func (e *DeletionProtectedError) Error() string {
	return fmt.Sprintf("load balancer %s has deletion protection on: run `wbo-deploy destroy --force` to turn it off and delete it, "+
		"or set load_balancer.deletion_protection: false and run `wbo-deploy up` first", e.Name)
}

type albObs struct {
	lb      lbt.LoadBalancer
	attrs   map[string]string
	subnets []string
	sgs     []string
}

// albWant is the load balancer the configuration describes.
type albWant struct {
	name    string
	subnets []string
	sgs     []string
	attrs   map[string]string
}

func (k albKind) want(env *Env, n *Node) (albWant, error) {
	w := albWant{name: env.Cfg.Names().LoadBalancer}
	for _, d := range n.Deps {
		if strings.HasPrefix(d, "subnet-public-") {
			id, err := env.RefID(d)
			if err != nil {
				return w, err
			}
			w.subnets = append(w.subnets, id)
		}
	}
	sg, err := env.RefID("sg-alb")
	if err != nil {
		return w, err
	}
	w.sgs = []string{sg}
	lb := env.Cfg.LoadBalancer
	w.attrs = map[string]string{
		attrIdleTimeout:     strconv.Itoa(lb.IdleTimeout),
		attrDropInvalid:     "true",
		attrDeletionProtect: strconv.FormatBool(lb.DeletionProtection),
		attrLogsEnabled:     strconv.FormatBool(lb.AccessLogs),
	}
	if lb.AccessLogs {
		bucket, err := env.RefID("bucket-logs")
		if err != nil {
			return w, err
		}
		w.attrs[attrLogsBucket] = bucket
		w.attrs[attrLogsPrefix] = AccessLogPrefix
	}
	return w, nil
}

// lbURL is the address users open: https on domain.name when there is one,
// else on the load balancer's name when a certificate is configured.
func lbURL(env *Env, dns string) string {
	if d := env.Cfg.DomainName(); d != "" {
		return "https://" + d
	}
	if env.Cfg.HTTPS() {
		return "https://" + dns
	}
	return "http://" + dns
}

// arnSuffix is the part of an ELB ARN after the resource type's colon-free
// prefix: "app/<name>/<id>" for a load balancer, "targetgroup/<name>/<id>" for
// a target group (the CloudWatch dimension values).
func arnSuffix(arn, marker string) string {
	if i := strings.Index(arn, marker); i >= 0 {
		return arn[i+len(marker):]
	}
	return ""
}

func (k albKind) observe(ctx context.Context, env *Env, n *Node, lb lbt.LoadBalancer) (*Observed, error) {
	arn := aws.ToString(lb.LoadBalancerArn)
	out, err := env.AWS.ELB.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describe load balancer %s attributes: %w", arn, err)
	}
	raw := &albObs{lb: lb, attrs: map[string]string{}, sgs: append([]string(nil), lb.SecurityGroups...)}
	for _, a := range out.Attributes {
		raw.attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	for _, z := range lb.AvailabilityZones {
		raw.subnets = append(raw.subnets, aws.ToString(z.SubnetId))
	}
	st := ""
	if lb.State != nil {
		st = string(lb.State.Code)
	}
	obs := &Observed{Rec: NewRecord(n, arn), State: st, Pending: st == string(lbt.LoadBalancerStateEnumProvisioning), Raw: raw}
	obs.Rec.ARN = arn
	obs.Rec.Attrs["dns_name"] = aws.ToString(lb.DNSName)
	obs.Rec.Attrs["name"] = aws.ToString(lb.LoadBalancerName)
	obs.Rec.Attrs["arn_suffix"] = arnSuffix(arn, ":loadbalancer/")
	// The alias record of domain.name names it (dnsrecord.go).
	obs.Rec.Attrs["zone_id"] = aws.ToString(lb.CanonicalHostedZoneId)
	obs.Info = map[string]string{"url": lbURL(env, aws.ToString(lb.DNSName)), "state": st}
	if st == string(lbt.LoadBalancerStateEnumFailed) || st == string(lbt.LoadBalancerStateEnumActiveImpaired) {
		reason := st
		if lb.State.Reason != nil {
			reason += ": " + aws.ToString(lb.State.Reason)
		}
		obs.Health = &Health{OK: false, Reason: reason}
	}
	return obs, nil
}

// elbTagsOf returns the tags of ELBv2 resources, 20 ARNs per DescribeTags call
// (the API's limit).
func elbTagsOf(ctx context.Context, env *Env, arns []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for i := 0; i < len(arns); i += 20 {
		batch := arns[i:min(i+20, len(arns))]
		res, err := env.AWS.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return nil, fmt.Errorf("describe tags: %w", err)
		}
		for _, d := range res.TagDescriptions {
			m := map[string]string{}
			for _, t := range d.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			out[aws.ToString(d.ResourceArn)] = m
		}
	}
	return out, nil
}

func elbTags(env *Env, logical string) []lbt.Tag {
	var tags []lbt.Tag
	for _, kv := range env.SortedTags(logical) {
		tags = append(tags, lbt.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	return tags
}

// checkOwned verifies that an ELBv2 resource found by name is this stack's
// node n (ForeignResourceError and checkOwner are shared with the other kinds).
func checkOwned(ctx context.Context, env *Env, n *Node, what, name, arn string) error {
	tags, err := elbTagsOf(ctx, env, []string{arn})
	if err != nil {
		return err
	}
	return checkOwner(env, n, what, name, tags[arn])
}

func (k albKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe load balancer %s: %w", rec.ID, err)
		}
		if err == nil && len(out.LoadBalancers) == 1 {
			return k.observe(ctx, env, n, out.LoadBalancers[0])
		}
	}
	name := env.Cfg.Names().LoadBalancer
	out, err := env.AWS.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	if awserr.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find load balancer %s: %w", name, err)
	}
	if len(out.LoadBalancers) != 1 {
		return nil, nil
	}
	lb := out.LoadBalancers[0]
	if err := checkOwned(ctx, env, n, "load balancer", name, aws.ToString(lb.LoadBalancerArn)); err != nil {
		return nil, err
	}
	return k.observe(ctx, env, n, lb)
}

func (k albKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	w, err := k.want(env, n)
	if err != nil {
		return nil, err
	}
	out, err := env.AWS.ELB.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(w.name), Subnets: w.subnets, SecurityGroups: w.sgs,
		Scheme: lbt.LoadBalancerSchemeEnumInternetFacing, Type: lbt.LoadBalancerTypeEnumApplication,
		IpAddressType: lbt.IpAddressTypeIpv4, Tags: elbTags(env, n.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("create load balancer %s: %w", w.name, err)
	}
	if len(out.LoadBalancers) != 1 {
		return nil, fmt.Errorf("create load balancer %s: AWS returned %d load balancers", w.name, len(out.LoadBalancers))
	}
	lb := out.LoadBalancers[0]
	arn := aws.ToString(lb.LoadBalancerArn)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	rec.Attrs["dns_name"] = aws.ToString(lb.DNSName)
	rec.Attrs["name"] = w.name
	rec.Attrs["arn_suffix"] = arnSuffix(arn, ":loadbalancer/")
	rec.Attrs["zone_id"] = aws.ToString(lb.CanonicalHostedZoneId)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	active, err := k.waitActive(ctx, env, n, arn)
	if err != nil {
		return nil, err
	}
	return k.observe(ctx, env, n, active)
}

// waitActive polls until the load balancer leaves "provisioning" (usually a
// few minutes; aws-behaviour.md), reporting progress.
func (k albKind) waitActive(ctx context.Context, env *Env, n *Node, arn string) (lbt.LoadBalancer, error) {
	var lb lbt.LoadBalancer
	err := env.Clock.Poll(ctx, 20*time.Minute, 5*time.Second, 15*time.Second, func(status string, elapsed time.Duration) {
		env.Progress(n.Name, fmt.Sprintf("%s (%s elapsed)", status, elapsed.Round(time.Second)), elapsed)
	}, func(ctx context.Context) (bool, string, error) {
		out, err := env.AWS.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
		if awserr.IsNotFound(err) {
			return false, "waiting for the new load balancer to be visible", nil
		}
		if err != nil {
			return false, "", fmt.Errorf("describe load balancer %s: %w", arn, err)
		}
		if len(out.LoadBalancers) != 1 || out.LoadBalancers[0].State == nil {
			return false, "provisioning", nil
		}
		lb = out.LoadBalancers[0]
		switch lb.State.Code {
		case lbt.LoadBalancerStateEnumActive:
			return true, "active", nil
		case lbt.LoadBalancerStateEnumFailed:
			return false, "", fmt.Errorf("load balancer %s failed: %s", arn, aws.ToString(lb.State.Reason))
		}
		return false, string(lb.State.Code), nil
	})
	if err != nil {
		return lb, fmt.Errorf("wait for load balancer %s to be active: %w", arn, err)
	}
	return lb, nil
}

func (k albKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*albObs)
	w, err := k.want(env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "?", New: err.Error()}}
	}
	var cs []Change
	if obs.Pending {
		cs = append(cs, Change{Field: "state", Old: obs.State, New: "active (wait)"})
	}
	if s := string(raw.lb.Scheme); s != string(lbt.LoadBalancerSchemeEnumInternetFacing) {
		cs = append(cs, Change{Field: "scheme", Old: s, New: "internet-facing", Replace: true, Why: "a load balancer's scheme cannot change"})
	}
	if !sameSet(raw.subnets, w.subnets) {
		cs = append(cs, Change{Field: "subnets", Old: strings.Join(sortedCopy(raw.subnets), ","), New: strings.Join(sortedCopy(w.subnets), ",")})
	}
	if !sameSet(raw.sgs, w.sgs) {
		cs = append(cs, Change{Field: "security_groups", Old: strings.Join(sortedCopy(raw.sgs), ","), New: strings.Join(sortedCopy(w.sgs), ",")})
	}
	for _, key := range sortedKeys(w.attrs) {
		if raw.attrs[key] != w.attrs[key] {
			cs = append(cs, Change{Field: key, Old: raw.attrs[key], New: w.attrs[key]})
		}
	}
	return cs
}

func (k albKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*albObs)
	w, err := k.want(env, n)
	if err != nil {
		return err
	}
	arn := obs.Rec.ID
	var attrs []lbt.LoadBalancerAttribute
	for _, c := range changes {
		switch c.Field {
		case "state":
			lb, err := k.waitActive(ctx, env, n, arn)
			if err != nil {
				return err
			}
			raw.lb, obs.Pending, obs.State = lb, false, string(lbt.LoadBalancerStateEnumActive)
		case "subnets":
			if _, err := env.AWS.ELB.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: aws.String(arn), Subnets: w.subnets}); err != nil {
				return fmt.Errorf("set subnets of load balancer %s: %w", arn, err)
			}
			raw.subnets = w.subnets
		case "security_groups":
			if _, err := env.AWS.ELB.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: aws.String(arn), SecurityGroups: w.sgs}); err != nil {
				return fmt.Errorf("set security groups of load balancer %s: %w", arn, err)
			}
			raw.sgs = w.sgs
		default:
			if v, ok := w.attrs[c.Field]; ok {
				attrs = append(attrs, lbt.LoadBalancerAttribute{Key: aws.String(c.Field), Value: aws.String(v)})
			}
		}
	}
	if len(attrs) > 0 {
		// Only the attributes that differ, in one call (AWS applies them
		// together, and a second up with nothing changed makes no call).
		// The log bucket's policy may have been written a moment ago: ELB
		// refuses it until the policy reaches log delivery (awserr.IsLogBucketDenied).
		err := env.Clock.Retry(ctx, LogBucketPolicyTimeout, awserr.IsLogBucketDenied,
			func(status string, elapsed time.Duration) {
				env.Progress(n.Name, fmt.Sprintf("waiting for the log bucket policy to reach ELB log delivery (%s elapsed; %s)", elapsed.Round(time.Second), status), elapsed)
			},
			func(ctx context.Context) error {
				_, err := env.AWS.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn), Attributes: attrs})
				return err
			})
		if err != nil {
			return fmt.Errorf("modify load balancer %s attributes: %w", arn, err)
		}
		for _, a := range attrs {
			raw.attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
	}
	return nil
}

// LogBucketPolicyTimeout bounds (AWS time) the retries of enabling access
// logs while ELB still answers "Access Denied for bucket" for a bucket policy
// just written; other tools report it passing within seconds.
const LogBucketPolicyTimeout = 2 * time.Minute

// Delete deletes the load balancer and waits until it is gone. Its network
// interfaces outlive it for minutes; the subnets and security group that they
// block are retried by the engine until AWS releases them.
func (k albKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	arn := rec.ID
	out, err := env.AWS.ELB.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn)})
	if awserr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe load balancer %s attributes: %w", arn, err)
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) != attrDeletionProtect || aws.ToString(a.Value) != "true" {
			continue
		}
		name := rec.Attrs["name"]
		if name == "" {
			name = arn
		}
		if !env.Destroy.Force {
			return &DeletionProtectedError{Name: name, ARN: arn}
		}
		_, err := env.AWS.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
			Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String(attrDeletionProtect), Value: aws.String("false")}}})
		if err != nil && !awserr.IsNotFound(err) {
			return fmt.Errorf("turn off deletion protection of load balancer %s: %w", name, err)
		}
	}
	if _, err := env.AWS.ELB.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)}); err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete load balancer %s: %w", arn, err)
	}
	minD, maxD := env.Clock.WaiterDelays(5*time.Second, 15*time.Second)
	err = elbv2.NewLoadBalancersDeletedWaiter(env.AWS.ELB, func(o *elbv2.LoadBalancersDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = minD, maxD }).
		Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}}, env.Clock.WaitTimeout(10*time.Minute))
	if err != nil {
		return fmt.Errorf("wait for load balancer %s to be deleted: %w", arn, err)
	}
	return nil
}

// IsDeletionProtected reports whether err is a refusal to delete a protected
// load balancer.
func IsDeletionProtected(err error) bool {
	var d *DeletionProtectedError
	return errors.As(err, &d)
}

// stackLoadBalancers lists the stack's load balancers (by the stack tag).
func stackLoadBalancers(ctx context.Context, env *Env) ([]lbt.LoadBalancer, map[string]map[string]string, error) {
	var all []lbt.LoadBalancer
	p := elbv2.NewDescribeLoadBalancersPaginator(env.AWS.ELB, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("describe load balancers: %w", err)
		}
		all = append(all, page.LoadBalancers...)
	}
	var arns []string
	for _, lb := range all {
		arns = append(arns, aws.ToString(lb.LoadBalancerArn))
	}
	tags, err := elbTagsOf(ctx, env, arns)
	if err != nil {
		return nil, nil, err
	}
	var out []lbt.LoadBalancer
	for _, lb := range all {
		if tags[aws.ToString(lb.LoadBalancerArn)][TagStack] == env.Stack() {
			out = append(out, lb)
		}
	}
	return out, tags, nil
}

func (k albKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	lbs, tags, err := stackLoadBalancers(ctx, env)
	if err != nil {
		return nil, err
	}
	var out []state.Resource
	for _, lb := range lbs {
		arn := aws.ToString(lb.LoadBalancerArn)
		out = append(out, state.Resource{Name: tags[arn][TagResource], Kind: k.Type(), ID: arn, ARN: arn,
			Attrs: map[string]string{"name": aws.ToString(lb.LoadBalancerName)}})
	}
	return out, nil
}

func (albKind) PlanNote(env *Env, n *Node) string {
	lb := env.Cfg.LoadBalancer
	parts := []string{"internet-facing, in the public subnets, provisioning takes a few minutes",
		fmt.Sprintf("idle timeout %d s", lb.IdleTimeout)}
	if lb.DeletionProtection {
		parts = append(parts, "deletion protection on")
	}
	if lb.AccessLogs {
		parts = append(parts, "access logs to the log bucket")
	}
	return strings.Join(parts, ", ")
}

func sameSet(a, b []string) bool {
	x, y := sortedCopy(a), sortedCopy(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func sortedCopy(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
