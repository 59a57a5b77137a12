package provision

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// flowGraph is the network tier with the buckets: what the flow log and the
// board bucket's access logging need.
func flowGraph(cfg *config.Config) *Graph {
	return kindGraphAll(cfg, func(k string) bool { return strings.HasPrefix(k, "ec2.") || k == "s3.bucket" })
}

// kindGraphAll keeps the nodes of the kinds kept, the flow log included.
func kindGraphAll(cfg *config.Config, keep func(string) bool) *Graph {
	g := NewGraph()
	for _, n := range Build(cfg).Nodes() {
		if keep(n.Kind) {
			g.Add(n)
		}
	}
	return g
}

// flowLogsOf lists the account's flow logs of a VPC.
func flowLogsOf(t *testing.T, r *rig, vpcID string) []ec2types.FlowLog {
	t.Helper()
	out, err := r.clients().EC2.DescribeFlowLogs(context.Background(), &ec2.DescribeFlowLogsInput{
		Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{vpcID}}}})
	if err != nil {
		t.Fatalf("describe flow logs: %v", err)
	}
	return out.FlowLogs
}

func recordOf(r *rig, name string) (id string) {
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec.ID
		}
	}
	return ""
}

// boardLogging is the board bucket's server access logging, "" when off.
func boardLogging(t *testing.T, r *rig) string {
	t.Helper()
	out, err := r.s3Client().GetBucketLogging(context.Background(), &s3.GetBucketLoggingInput{Bucket: aws.String(boardBucketOf(r))})
	if err != nil {
		t.Fatalf("get bucket logging: %v", err)
	}
	if out.LoggingEnabled == nil {
		return ""
	}
	return aws.ToString(out.LoggingEnabled.TargetBucket) + "/" + aws.ToString(out.LoggingEnabled.TargetPrefix)
}

func TestFlowLogAndAccessLoggingUpIdempotentDestroy(t *testing.T) {
	r := newRig(t, nil)
	g := flowGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
	vpcID := recordOf(r, "vpc")
	fls := flowLogsOf(t, r, vpcID)
	if len(fls) != 1 {
		t.Fatalf("VPC %s has %d flow logs, want 1", vpcID, len(fls))
	}
	f := fls[0]
	wantDest := "arn:aws:s3:::" + logBucketOf(r) + "/vpc-flow-logs/"
	if f.TrafficType != ec2types.TrafficTypeReject || f.LogDestinationType != ec2types.LogDestinationTypeS3 ||
		aws.ToString(f.LogDestination) != wantDest || aws.ToString(f.DeliverLogsPermissionArn) != "" {
		t.Fatalf("flow log %+v, want REJECT to s3 %s without a role", f, wantDest)
	}
	if ec2TagValue(f.Tags, TagStack) != r.cfg.Stack || ec2TagValue(f.Tags, TagResource) != "flow-log" {
		t.Fatalf("flow log tags %+v", f.Tags)
	}
	if id := recordOf(r, "flow-log"); id != aws.ToString(f.FlowLogId) {
		t.Fatalf("state records flow log %q, the account has %q", id, aws.ToString(f.FlowLogId))
	}
	if got, want := boardLogging(t, r), logBucketOf(r)+"/s3-access/"; got != want {
		t.Fatalf("board bucket logging %q, want %q", got, want)
	}
	checkStateMatches(t, r)

	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}

	if err := r.destroyWith(g, DestroyOptions{DeleteData: true}).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := r.cloud.FlowLogCount(); n != 0 {
		t.Fatalf("%d flow logs left after destroy", n)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
	r.cloud.ResetCalls()
	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second destroy made mutating calls: %v", m)
	}
}

// Access logs turned off: no log bucket, so the flow log goes and the board
// bucket stops logging; turned on again, both come back.
func TestAccessLogsOffRemovesFlowLogAndLogging(t *testing.T) {
	r := newRig(t, nil)
	if err := r.up(flowGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
	vpcID := recordOf(r, "vpc")
	r.cfg.LoadBalancer.AccessLogs = false
	g := flowGraph(r.cfg)
	if _, ok := g.Node("flow-log"); ok {
		t.Fatal("flow-log declared without access logs")
	}
	if n, _ := g.Node("bucket-boards"); len(n.Deps) != 0 {
		t.Fatalf("board bucket depends on %v without access logs", n.Deps)
	}
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatalf("up without access logs: %v", err)
	}
	if fls := flowLogsOf(t, r, vpcID); len(fls) != 0 {
		t.Fatalf("flow logs left without access logs: %+v", fls)
	}
	if got := boardLogging(t, r); got != "" {
		t.Fatalf("board bucket still logs to %s", got)
	}
	if id := recordOf(r, "flow-log"); id != "" {
		t.Fatalf("state still records flow log %s", id)
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up without access logs made mutating calls: %v", m)
	}

	r.cfg.LoadBalancer.AccessLogs = true
	if err := r.up(flowGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("up with access logs again: %v", err)
	}
	if fls := flowLogsOf(t, r, vpcID); len(fls) != 1 {
		t.Fatalf("%d flow logs after turning access logs on again", len(fls))
	}
	if got := boardLogging(t, r); got == "" {
		t.Fatal("board bucket does not log after turning access logs on again")
	}
}

// Logging changed by hand is put back; logging turned off by hand too.
func TestBoardBucketLoggingDriftRepaired(t *testing.T) {
	r := newRig(t, nil)
	g := flowGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	r.cloud.AddBucket("someone-elses-log-target", "", "", nil)
	_, err := r.s3Client().PutBucketLogging(context.Background(), &s3.PutBucketLoggingInput{Bucket: aws.String(boardBucketOf(r)),
		BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{
			TargetBucket: aws.String("someone-elses-log-target"), TargetPrefix: aws.String("x/")}}})
	if err != nil {
		t.Fatal(err)
	}
	r.cloud.ResetCalls()
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := boardLogging(t, r), logBucketOf(r)+"/s3-access/"; got != want {
		t.Fatalf("logging after repair %q, want %q", got, want)
	}
	if m := strings.Join(r.cloud.MutatingCalls(), ","); m != "S3.PutBucketLogging" {
		t.Fatalf("repair made %s, want exactly S3.PutBucketLogging", m)
	}
	c := resultOf(t, res, "bucket-boards").Changes
	if len(c) != 1 || c[0].Field != "access_logging" {
		t.Fatalf("changes %+v", c)
	}
}

// A log target that does not exist, or belongs to another account, is
// refused the way S3 refuses it.
func TestPutBucketLoggingTargetChecks(t *testing.T) {
	r := newRig(t, nil)
	if err := r.up(flowGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	r.cloud.AddBucket("foreign-target", awssim.ForeignAccount, "", nil)
	for _, target := range []string{"no-such-target", "foreign-target"} {
		_, err := r.s3Client().PutBucketLogging(context.Background(), &s3.PutBucketLoggingInput{Bucket: aws.String(boardBucketOf(r)),
			BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{
				TargetBucket: aws.String(target), TargetPrefix: aws.String("x/")}}})
		if !strings.Contains(fmt.Sprint(err), "InvalidTargetBucketForLogging") {
			t.Fatalf("target %s: %v, want InvalidTargetBucketForLogging", target, err)
		}
	}
}

func TestFlowLogCrashAtEveryMutatingCall(t *testing.T) {
	crashEveryStep(t, func(r *rig) *Graph { return flowGraph(r.cfg) }, map[string]bool{"bucket bucket-boards": true})
}

// A flow log made before the state was written (or by hand, untagged, with
// our configuration) is adopted, not duplicated.
func TestFlowLogAdoptedUntagged(t *testing.T) {
	r := newRig(t, nil)
	netOnly := NewGraph()
	for _, n := range flowGraph(r.cfg).Nodes() {
		if n.Kind != "ec2.flow-log" {
			netOnly.Add(n)
		}
	}
	if err := r.up(netOnly).Err(); err != nil {
		t.Fatal(err)
	}
	vpcID := recordOf(r, "vpc")
	out, err := r.clients().EC2.CreateFlowLogs(context.Background(), &ec2.CreateFlowLogsInput{
		ResourceType: ec2types.FlowLogsResourceTypeVpc, ResourceIds: []string{vpcID}, TrafficType: ec2types.TrafficTypeReject,
		LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::" + logBucketOf(r) + "/vpc-flow-logs/")})
	if err != nil || len(out.FlowLogIds) != 1 {
		t.Fatalf("create by hand: %v %+v", err, out)
	}
	r.cloud.ResetCalls()
	if err := r.up(flowGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("adoption made mutating calls: %v", m)
	}
	if id := recordOf(r, "flow-log"); id != out.FlowLogIds[0] {
		t.Fatalf("state records %q, want the adopted %q", id, out.FlowLogIds[0])
	}
	// A second identical flow log is refused, in the answer's Unsuccessful list.
	dup, err := r.clients().EC2.CreateFlowLogs(context.Background(), &ec2.CreateFlowLogsInput{
		ResourceType: ec2types.FlowLogsResourceTypeVpc, ResourceIds: []string{vpcID}, TrafficType: ec2types.TrafficTypeReject,
		LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::" + logBucketOf(r) + "/vpc-flow-logs/")})
	if err != nil || len(dup.FlowLogIds) != 0 || len(dup.Unsuccessful) != 1 || aws.ToString(dup.Unsuccessful[0].Error.Code) != "FlowLogAlreadyExists" {
		t.Fatalf("duplicate flow log: %v %+v", err, dup)
	}
}

// A flow log whose destination was changed (made by hand to another folder,
// tagged as ours) is replaced: the new one first, then the old one goes.
func TestFlowLogWrongDestinationReplaced(t *testing.T) {
	r := newRig(t, nil)
	g := flowGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	vpcID, old := recordOf(r, "vpc"), recordOf(r, "flow-log")
	if _, err := r.clients().EC2.DeleteFlowLogs(context.Background(), &ec2.DeleteFlowLogsInput{FlowLogIds: []string{old}}); err != nil {
		t.Fatal(err)
	}
	e, done := r.engine(g)
	out, err := r.clients().EC2.CreateFlowLogs(context.Background(), &ec2.CreateFlowLogsInput{
		ResourceType: ec2types.FlowLogsResourceTypeVpc, ResourceIds: []string{vpcID}, TrafficType: ec2types.TrafficTypeAll,
		LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::" + logBucketOf(r) + "/elsewhere/"),
		TagSpecifications: ec2TagSpec(e.Env, "flow-log", ec2types.ResourceTypeVpcFlowLog)})
	done()
	if err != nil || len(out.FlowLogIds) != 1 {
		t.Fatalf("create by hand: %v %+v", err, out)
	}
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	fls := flowLogsOf(t, r, vpcID)
	if len(fls) != 1 || fls[0].TrafficType != ec2types.TrafficTypeReject || !strings.HasSuffix(aws.ToString(fls[0].LogDestination), "/vpc-flow-logs/") {
		t.Fatalf("flow logs after repair: %+v", fls)
	}
	if id := recordOf(r, "flow-log"); id != aws.ToString(fls[0].FlowLogId) || id == out.FlowLogIds[0] {
		t.Fatalf("state records %q; live %q; hand-made %q", id, aws.ToString(fls[0].FlowLogId), out.FlowLogIds[0])
	}
}

// Without state, destroy finds the flow log by its tags and deletes it.
func TestFlowLogDiscoveredWithoutState(t *testing.T) {
	r := newRig(t, nil)
	g := flowGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	id := recordOf(r, "flow-log")
	if err := removeFile(r.path); err != nil {
		t.Fatal(err)
	}
	e, done := r.engine(g)
	defer done()
	found, err := e.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, f := range found {
		if f.Kind == "ec2.flow-log" {
			got += f.Name + "=" + f.ID + ";"
		}
	}
	if got != "flow-log="+id+";" {
		t.Fatalf("discovered flow logs %q, want flow-log=%s", got, id)
	}
	if err := e.Destroy(context.Background(), found).Err(); err != nil {
		t.Fatalf("destroy by discovery: %v", err)
	}
	if n := r.cloud.FlowLogCount(); n != 0 {
		t.Fatalf("%d flow logs left after destroy by discovery", n)
	}
}
