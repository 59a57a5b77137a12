package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// listenerKind provisions the load balancer's listeners. Node.Role "http" is
// port 80: it forwards to the app, or, when a certificate is configured,
// redirects to HTTPS with a 301. Role "https" is port 443 with the
// certificate and the configured TLS policy, forwarding to the app. The
// forward action spreads requests over every target group of the stack with
// equal weights (board routing rules are separate nodes); with stickiness on,
// target group stickiness keeps a client on one group.
type listenerKind struct{}

func init() { Register(listenerKind{}) }

func (listenerKind) Type() string { return "elbv2.listener" }

type listenerSpec struct {
	port     int32
	protocol string
	policy   string
	cert     string
	actions  []lbt.Action
}

// actionKey is a canonical description of a listener's default action, so
// Diff compares meaning, not the shape AWS echoes back (DescribeListeners adds
// Order, a ForwardConfig for a plain TargetGroupArn, default weights...).
func actionKey(actions []lbt.Action) string {
	var parts []string
	for _, a := range actions {
		switch a.Type {
		case lbt.ActionTypeEnumForward:
			weights := map[string]int32{}
			if arn := aws.ToString(a.TargetGroupArn); arn != "" {
				weights[arn] = 1
			}
			sticky := "off"
			if fc := a.ForwardConfig; fc != nil {
				for _, t := range fc.TargetGroups {
					w := int32(1)
					if t.Weight != nil {
						w = *t.Weight
					}
					weights[aws.ToString(t.TargetGroupArn)] = w
				}
				if st := fc.TargetGroupStickinessConfig; st != nil && aws.ToBool(st.Enabled) {
					sticky = strconv.Itoa(int(aws.ToInt32(st.DurationSeconds))) + "s"
				}
			}
			var tgs []string
			for arn, w := range weights {
				tgs = append(tgs, fmt.Sprintf("%s=%d", arn, w))
			}
			sort.Strings(tgs)
			parts = append(parts, fmt.Sprintf("forward[%s] stickiness %s", strings.Join(tgs, " "), sticky))
		case lbt.ActionTypeEnumRedirect:
			rc := a.RedirectConfig
			if rc == nil {
				rc = &lbt.RedirectActionConfig{}
			}
			or := func(v *string, def string) string {
				if x := aws.ToString(v); x != "" {
					return x
				}
				return def
			}
			// Omitted components keep their values (RedirectActionConfig):
			// the API echoes them back as the #{...} keywords.
			parts = append(parts, fmt.Sprintf("redirect %s %s://%s:%s%s?%s", rc.StatusCode, or(rc.Protocol, "#{protocol}"),
				or(rc.Host, "#{host}"), or(rc.Port, "#{port}"), or(rc.Path, "/#{path}"), or(rc.Query, "#{query}")))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, "; ")
}

// maxForwardTargetGroups is the most target groups one forward action takes.
const maxForwardTargetGroups = 5

// spec is the listener the configuration describes for node n.
func (k listenerKind) spec(env *Env, n *Node) (listenerSpec, error) {
	lb := env.Cfg.LoadBalancer
	forward := func() ([]lbt.Action, error) {
		fc := &lbt.ForwardActionConfig{TargetGroupStickinessConfig: &lbt.TargetGroupStickinessConfig{Enabled: aws.Bool(false)}}
		for _, d := range n.Deps {
			if !strings.HasPrefix(d, "tg-") {
				continue
			}
			arn, err := env.RefID(d)
			if err != nil {
				return nil, err
			}
			// A forward action takes at most 5 target groups (ALB quotas,
			// "Target groups per action"). The default action only serves
			// requests no board rule routes (index, static files), which any
			// shard answers, so beyond 5 shards it spreads over the first 5.
			if len(fc.TargetGroups) < maxForwardTargetGroups {
				fc.TargetGroups = append(fc.TargetGroups, lbt.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(1)})
			}
		}
		if len(fc.TargetGroups) == 0 {
			return nil, fmt.Errorf("listener %s has no target group to forward to", n.Name)
		}
		if lb.Stickiness {
			// Group-level stickiness: a client that reached one shard keeps
			// reaching it for requests no board rule routes (ALB user guide,
			// "Sticky sessions", target group stickiness).
			fc.TargetGroupStickinessConfig = &lbt.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(int32(lb.StickinessDuration))}
		}
		return []lbt.Action{{Type: lbt.ActionTypeEnumForward, Order: aws.Int32(1), ForwardConfig: fc}}, nil
	}
	switch n.Role {
	case "https":
		if !env.Cfg.HTTPS() {
			return listenerSpec{}, fmt.Errorf("listener %s needs load_balancer.certificate_arn or domain.name", n.Name)
		}
		cert := lb.CertificateARN
		if d := env.Cfg.DomainName(); d != "" {
			// The certificate of domain.name, once issued (certificate.go);
			// a plan made before it exists shows what it will be.
			arn, err := env.RefID(CertificateIssuedNode(d))
			if err != nil {
				arn = "(the certificate of " + d + ", once issued)"
			}
			cert = arn
		}
		acts, err := forward()
		return listenerSpec{port: 443, protocol: "HTTPS", policy: lb.SSLPolicy, cert: cert, actions: acts}, err
	case "http":
		if env.Cfg.HTTPS() {
			return listenerSpec{port: 80, protocol: "HTTP", actions: []lbt.Action{{Type: lbt.ActionTypeEnumRedirect, Order: aws.Int32(1),
				RedirectConfig: &lbt.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"),
					Host: aws.String("#{host}"), Path: aws.String("/#{path}"), Query: aws.String("#{query}"),
					StatusCode: lbt.RedirectActionStatusCodeEnumHttp301}}}}, nil
		}
		acts, err := forward()
		return listenerSpec{port: 80, protocol: "HTTP", actions: acts}, err
	}
	return listenerSpec{}, fmt.Errorf("unknown listener role %q", n.Role)
}

// nodePort is the port a listener node serves, known without AWS.
func nodePort(n *Node) int32 {
	if n.Role == "https" {
		return 443
	}
	return 80
}

func (k listenerKind) observe(n *Node, l lbt.Listener) *Observed {
	arn := aws.ToString(l.ListenerArn)
	raw := &listenerSpec{port: aws.ToInt32(l.Port), protocol: string(l.Protocol), policy: aws.ToString(l.SslPolicy), actions: l.DefaultActions}
	for _, c := range l.Certificates {
		if raw.cert == "" || aws.ToBool(c.IsDefault) {
			raw.cert = aws.ToString(c.CertificateArn)
		}
	}
	obs := &Observed{Rec: NewRecord(n, arn), State: "active", Raw: raw}
	obs.Rec.ARN = arn
	obs.Rec.Attrs["port"] = strconv.Itoa(int(raw.port))
	obs.Rec.Attrs["protocol"] = raw.protocol
	obs.Info = map[string]string{"listener": fmt.Sprintf("%s :%d → %s", raw.protocol, raw.port, actionKey(l.DefaultActions))}
	return obs
}

func (k listenerKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe listener %s: %w", rec.ID, err)
		}
		if err == nil && len(out.Listeners) == 1 {
			return k.observe(n, out.Listeners[0]), nil
		}
	}
	// A listener is identified by its load balancer and port.
	lbARN, err := env.RefID("alb")
	if err != nil || lbARN == "" {
		return nil, nil // no load balancer, so no listener
	}
	p := elbv2.NewDescribeListenersPaginator(env.AWS.ELB, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("describe listeners of %s: %w", lbARN, err)
		}
		for _, l := range page.Listeners {
			if aws.ToInt32(l.Port) == nodePort(n) {
				return k.observe(n, l), nil
			}
		}
	}
	return nil, nil
}

func (k listenerKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	sp, err := k.spec(env, n)
	if err != nil {
		return nil, err
	}
	lbARN, err := env.RefID("alb")
	if err != nil {
		return nil, err
	}
	in := &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(sp.port),
		Protocol: lbt.ProtocolEnum(sp.protocol), DefaultActions: sp.actions, Tags: elbTags(env, n.Name)}
	if sp.protocol == "HTTPS" {
		in.SslPolicy = aws.String(sp.policy)
		in.Certificates = []lbt.Certificate{{CertificateArn: aws.String(sp.cert)}}
	}
	out, err := env.AWS.ELB.CreateListener(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("create %s listener on port %d: %w", sp.protocol, sp.port, err)
	}
	if len(out.Listeners) != 1 {
		return nil, fmt.Errorf("create listener on port %d: AWS returned %d listeners", sp.port, len(out.Listeners))
	}
	obs := k.observe(n, out.Listeners[0])
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k listenerKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*listenerSpec)
	sp, err := k.spec(env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "?", New: err.Error()}}
	}
	var cs []Change
	add := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: old, New: new})
		}
	}
	add("port", strconv.Itoa(int(raw.port)), strconv.Itoa(int(sp.port)))
	add("protocol", raw.protocol, sp.protocol)
	// Compare only what the protocol uses. A security policy and certificates
	// mean something on an HTTPS listener only ("[HTTPS and TLS listeners]",
	// ELBv2 API reference, Listener.SslPolicy and Certificates); some
	// endpoints report an SslPolicy on HTTP listeners too, and comparing it
	// there drifted forever and modified the listener on every up. When the
	// protocol itself changes, the protocol change carries them (Update).
	if sp.protocol == "HTTPS" && raw.protocol == "HTTPS" {
		add("ssl_policy", raw.policy, sp.policy)
		add("certificate", raw.cert, sp.cert)
	}
	add("default_action", actionKey(raw.actions), actionKey(sp.actions))
	return cs
}

// Update converges the listener with one ModifyListener call carrying the
// fields that differ (with the policy and certificate whenever the listener
// is HTTPS, as the API requires when the protocol changes).
func (k listenerKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*listenerSpec)
	sp, err := k.spec(env, n)
	if err != nil {
		return err
	}
	in := &elbv2.ModifyListenerInput{ListenerArn: aws.String(obs.Rec.ID)}
	for _, c := range changes {
		switch c.Field {
		case "port":
			in.Port = aws.Int32(sp.port)
		case "protocol":
			in.Protocol = lbt.ProtocolEnum(sp.protocol)
		case "default_action":
			in.DefaultActions = sp.actions
		}
	}
	if sp.protocol == "HTTPS" {
		for _, c := range changes {
			if c.Field == "protocol" || c.Field == "ssl_policy" || c.Field == "certificate" {
				in.SslPolicy = aws.String(sp.policy)
				in.Certificates = []lbt.Certificate{{CertificateArn: aws.String(sp.cert)}}
			}
		}
	}
	out, err := env.AWS.ELB.ModifyListener(ctx, in)
	if err != nil {
		return fmt.Errorf("modify listener %s: %w", obs.Rec.ID, err)
	}
	if len(out.Listeners) == 1 {
		fresh := k.observe(n, out.Listeners[0])
		*raw = *fresh.Raw.(*listenerSpec)
		obs.Info = fresh.Info
		obs.Rec.Attrs = fresh.Rec.Attrs
	}
	return nil
}

func (k listenerKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete listener %s: %w", rec.ID, err)
	}
	return nil
}

// Discover lists the listeners of the stack's load balancers that carry the
// stack tag.
func (k listenerKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	ls, err := stackListeners(ctx, env)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, l := range ls {
		arns = append(arns, aws.ToString(l.ListenerArn))
	}
	tags, err := elbTagsOf(ctx, env, arns)
	if err != nil {
		return nil, err
	}
	var out []state.Resource
	for _, l := range ls {
		arn := aws.ToString(l.ListenerArn)
		if tags[arn][TagStack] == env.Stack() {
			out = append(out, state.Resource{Name: tags[arn][TagResource], Kind: k.Type(), ID: arn, ARN: arn})
		}
	}
	return out, nil
}

func (listenerKind) PlanNote(env *Env, n *Node) string {
	if n.Role == "https" {
		return "HTTPS :443 with policy " + env.Cfg.LoadBalancer.SSLPolicy + ", forwarding to the app"
	}
	if env.Cfg.HTTPS() {
		return "HTTP :80, redirecting to HTTPS (301)"
	}
	return "HTTP :80, forwarding to the app"
}

// stackListeners lists every listener of the stack's load balancers (a load
// balancer deleted meanwhile has none).
func stackListeners(ctx context.Context, env *Env) ([]lbt.Listener, error) {
	lbs, _, err := stackLoadBalancers(ctx, env)
	if err != nil {
		return nil, err
	}
	var ls []lbt.Listener
	for _, lb := range lbs {
		p := elbv2.NewDescribeListenersPaginator(env.AWS.ELB, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if awserr.IsNotFound(err) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("describe listeners of %s: %w", aws.ToString(lb.LoadBalancerArn), err)
			}
			ls = append(ls, page.Listeners...)
		}
	}
	return ls, nil
}
