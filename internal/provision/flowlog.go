package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// flowLogKind provisions the VPC's flow log (FSBP EC2.6): rejected traffic
// only, delivered to the access-log bucket under vpc-flow-logs/, where the
// bucket's lifecycle expires it with the other logs. Delivery to S3 needs no
// IAM role (CreateFlowLogs API reference: DeliverLogsPermissionArn is for
// CloudWatch Logs and cross-account Firehose only); the bucket policy grants
// the log delivery service (flowLogStatements). Declared only when
// load_balancer.access_logs is on, since that is when the log bucket exists.
//
// A flow log cannot be modified (there is no ModifyFlowLogs): a changed
// destination or traffic type is made by creating the new flow log first and
// deleting the old one.
type flowLogKind struct{}

func init() { Register(flowLogKind{}) }

func (flowLogKind) Type() string { return "ec2.flow-log" }

// flowLogPrefix is the folder of the log bucket that receives flow logs.
const flowLogPrefix = "vpc-flow-logs/"

// flowLogTraffic is what the flow log records: rejected traffic shows what
// probes the stack, at a fraction of the volume of all traffic.
const flowLogTraffic = ec2types.TrafficTypeReject

// flowLogSpec is what the configuration wants.
type flowLogSpec struct {
	vpc, dest string
}

func flowLogWant(env *Env) (flowLogSpec, error) {
	vpcID, err := env.RefID("vpc")
	if err != nil {
		return flowLogSpec{}, err
	}
	bucket := env.Cfg.AccessLogBucket(env.Account(), env.Region())
	return flowLogSpec{vpc: vpcID, dest: bucketARN(env, bucket) + "/" + flowLogPrefix}, nil
}

// flowLogObs is a flow log as EC2 describes it.
type flowLogObs struct {
	resource, traffic, destType, dest string
}

func (o flowLogObs) desc() string {
	return fmt.Sprintf("%s of %s to %s %s", o.traffic, o.resource, o.destType, o.dest)
}

func (k flowLogKind) observe(n *Node, f ec2types.FlowLog) *Observed {
	o := flowLogObs{resource: aws.ToString(f.ResourceId), traffic: string(f.TrafficType),
		destType: string(f.LogDestinationType), dest: aws.ToString(f.LogDestination)}
	obs := &Observed{Rec: NewRecord(n, aws.ToString(f.FlowLogId)), State: "active", Raw: o,
		Info: map[string]string{"traffic": o.traffic, "destination": o.dest}}
	obs.Rec.Attrs["vpc"] = o.resource
	if s := aws.ToString(f.DeliverLogsStatus); s != "" && s != "SUCCESS" {
		obs.Health = &Health{OK: false, Reason: "log delivery " + s + ": " + aws.ToString(f.DeliverLogsErrorMessage)}
	}
	return obs
}

// describe returns the flow logs matching the input, all pages.
func describeFlowLogs(ctx context.Context, env *Env, in *ec2.DescribeFlowLogsInput) ([]ec2types.FlowLog, error) {
	var out []ec2types.FlowLog
	p := ec2.NewDescribeFlowLogsPaginator(env.AWS.EC2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.FlowLogs...)
	}
	return out, nil
}

func (k flowLogKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		fls, err := describeFlowLogs(ctx, env, &ec2.DescribeFlowLogsInput{FlowLogIds: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe flow log %s: %w", rec.ID, err)
		}
		for _, f := range fls {
			if aws.ToString(f.FlowLogId) == rec.ID {
				return k.observe(n, f), nil
			}
		}
	}
	fls, err := describeFlowLogs(ctx, env, &ec2.DescribeFlowLogsInput{Filter: ownFilters(env, n.Name)})
	if err != nil {
		return nil, fmt.Errorf("find flow log by tags: %w", err)
	}
	var ids []string
	for _, f := range fls {
		ids = append(ids, aws.ToString(f.FlowLogId))
	}
	if id, _ := pickOne(ids); id != "" {
		for _, f := range fls {
			if aws.ToString(f.FlowLogId) == id {
				return k.observe(n, f), nil
			}
		}
	}
	// Untagged (made by hand, or by another tool): the one flow log of the
	// VPC with our destination and traffic type is ours; CreateFlowLogs
	// would refuse a second one (FlowLogAlreadyExists).
	spec, err := flowLogWant(env)
	if err != nil {
		return nil, nil // no VPC yet: no flow log either
	}
	return k.findByResource(ctx, env, n, spec)
}

func (k flowLogKind) findByResource(ctx context.Context, env *Env, n *Node, spec flowLogSpec) (*Observed, error) {
	fls, err := describeFlowLogs(ctx, env, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{
		{Name: aws.String("resource-id"), Values: []string{spec.vpc}}}})
	if err != nil {
		return nil, fmt.Errorf("describe flow logs of %s: %w", spec.vpc, err)
	}
	for _, f := range fls {
		if aws.ToString(f.LogDestination) == spec.dest && f.LogDestinationType == ec2types.LogDestinationTypeS3 && f.TrafficType == flowLogTraffic {
			return k.observe(n, f), nil
		}
	}
	return nil, nil
}

// create makes the flow log for spec and records it. A flow log that
// already exists with that configuration (FlowLogAlreadyExists) is adopted.
func (k flowLogKind) create(ctx context.Context, env *Env, n *Node, spec flowLogSpec) (*Observed, error) {
	out, err := env.AWS.EC2.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceType: ec2types.FlowLogsResourceTypeVpc, ResourceIds: []string{spec.vpc},
		TrafficType: flowLogTraffic, LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: aws.String(spec.dest),
		TagSpecifications: ec2TagSpec(env, n.Name, ec2types.ResourceTypeVpcFlowLog),
	})
	// Per-resource failures come back in Unsuccessful (CreateFlowLogs API
	// reference), a request-level one as the error; handle both alike.
	code, msg := awserr.Code(err), awserr.Message(err)
	if err == nil && len(out.Unsuccessful) > 0 {
		if e := out.Unsuccessful[0].Error; e != nil {
			code, msg = aws.ToString(e.Code), aws.ToString(e.Message)
		}
	}
	switch {
	case code == "FlowLogAlreadyExists":
		obs, ferr := k.findByResource(ctx, env, n, spec)
		if ferr != nil {
			return nil, ferr
		}
		if obs == nil {
			return nil, fmt.Errorf("create flow log for %s: %s, but none of it to %s is listed", spec.vpc, code, spec.dest)
		}
		if err := env.Record(obs.Rec); err != nil {
			return nil, err
		}
		return obs, nil
	case err != nil:
		return nil, fmt.Errorf("create flow log for %s: %w", spec.vpc, err)
	case code != "":
		return nil, fmt.Errorf("create flow log for %s: %s: %s", spec.vpc, code, msg)
	case len(out.FlowLogIds) != 1:
		return nil, fmt.Errorf("create flow log for %s: AWS returned %d flow log IDs, want 1", spec.vpc, len(out.FlowLogIds))
	}
	id := out.FlowLogIds[0]
	rec := NewRecord(n, id)
	rec.Attrs["vpc"] = spec.vpc
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	o := flowLogObs{resource: spec.vpc, traffic: string(flowLogTraffic), destType: string(ec2types.LogDestinationTypeS3), dest: spec.dest}
	return &Observed{Rec: rec, State: "active", Raw: o, Info: map[string]string{"traffic": o.traffic, "destination": o.dest}}, nil
}

func (k flowLogKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	spec, err := flowLogWant(env)
	if err != nil {
		return nil, err
	}
	return k.create(ctx, env, n, spec)
}

func (k flowLogKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	spec, err := flowLogWant(env)
	if err != nil {
		return []Change{{Field: "configuration", New: err.Error()}}
	}
	o, ok := obs.Raw.(flowLogObs)
	if !ok {
		return nil
	}
	want := flowLogObs{resource: spec.vpc, traffic: string(flowLogTraffic), destType: string(ec2types.LogDestinationTypeS3), dest: spec.dest}
	if o != want {
		return []Change{{Field: "flow_log", Old: o.desc(), New: want.desc()}}
	}
	return nil
}

// Update replaces a flow log whose configuration differs: the new one first,
// so that no rejected traffic goes unrecorded, then the old one.
func (k flowLogKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	spec, err := flowLogWant(env)
	if err != nil {
		return err
	}
	old := obs.Rec
	nobs, err := k.create(ctx, env, n, spec)
	if err != nil {
		return err
	}
	if nobs.Rec.ID != old.ID {
		if err := k.Delete(ctx, env, old); err != nil {
			return err
		}
	}
	*obs = *nobs
	return nil
}

func (k flowLogKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	out, err := env.AWS.EC2.DeleteFlowLogs(ctx, &ec2.DeleteFlowLogsInput{FlowLogIds: []string{rec.ID}})
	if err != nil {
		if awserr.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete flow log %s: %w", rec.ID, err)
	}
	for _, u := range out.Unsuccessful {
		if u.Error == nil || aws.ToString(u.Error.Code) == "InvalidFlowLogId.NotFound" {
			continue // already gone
		}
		return fmt.Errorf("delete flow log %s: %s: %s", rec.ID, aws.ToString(u.Error.Code), aws.ToString(u.Error.Message))
	}
	return nil
}

func (k flowLogKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	fls, err := describeFlowLogs(ctx, env, &ec2.DescribeFlowLogsInput{Filter: stackFilters(env)})
	if err != nil {
		return nil, fmt.Errorf("describe flow logs: %w", err)
	}
	var out []state.Resource
	for _, f := range fls {
		out = append(out, state.Resource{Name: ec2TagValue(f.Tags, TagResource), Kind: k.Type(), ID: aws.ToString(f.FlowLogId)})
	}
	return out, nil
}

// PlanNote says what the flow log records and costs.
func (k flowLogKind) PlanNote(env *Env, n *Node) string {
	return "rejected traffic of the VPC, to the access-log bucket under " + flowLogPrefix + "; expires with the access logs"
}
