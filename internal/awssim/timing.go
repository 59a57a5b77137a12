package awssim

import "time"

// Timing is the duration model: how long AWS takes for each asynchronous
// thing the stack waits for, in AWS time (Cloud.Scale maps it to wall time;
// inside a testing/synctest bubble the benchmarks run it at scale 1, so these
// are the durations measured). It is the one table of such figures: the
// benchmarks' critical path (internal/reliability) is computed from it, and
// docs/performance.md reproduces it. Every figure has its source next to it.
type Timing struct {
	// VPCPending: pending → available. EC2 reports most VPCs available on
	// the first describe; the EC2 API reference (DescribeVpcs, VpcState)
	// documents the two states and the SDK's VpcAvailable waiter polls
	// every 15 s. 2 s models "a moment".
	VPCPending time.Duration
	// LoadBalancerActive: provisioning → active. Elastic Load Balancing
	// User Guide for ALBs ("Create an Application Load Balancer": "it can
	// take a few minutes for the load balancer to be provisioned");
	// typically 2–3 minutes in practice (terraform-provider-aws waits up to
	// 10 minutes, aws_lb create timeout).
	LoadBalancerActive time.Duration
	// ENILinger: how long the requester-managed network interfaces of a
	// deleted load balancer, a stopped Fargate task or a deleted ElastiCache
	// group block their subnets and security groups (DependencyViolation).
	// "When an ELB is destroyed, its network interfaces can take a while to
	// go away (some minutes)" (hashicorp/terraform#3758,
	// terraform-provider-aws#40); ECS "Fargate task networking": the ENI is
	// deleted when the task stops, which terraform users observe taking
	// minutes. 5 min is a commonly observed value.
	ENILinger time.Duration
	// ReplicationGroup: creating → available. aws-behaviour.md ("5–15
	// minutes"); ElastiCache User Guide, "Creating a Redis replication
	// group": the status is creating until the group is ready, "this can
	// take several minutes". 10 min is the middle of the range.
	ReplicationGroup time.Duration
	// ReplicationDeleting: deleting → gone. aws-behaviour.md ("deleting
	// takes minutes too"); 5 min as typically observed.
	ReplicationDeleting time.Duration
	// ReplicationModify: modifying → available for a parameter change
	// applied immediately (ElastiCache User Guide, "Modifying a
	// replication group"): minutes; 3 min.
	ReplicationModify time.Duration
	// TaskStart: a Fargate task PROVISIONING → RUNNING (ENI attach, image
	// pull, containers started in dependency order). Amazon ECS Developer
	// Guide, "Task lifecycle"; typically 30–60 s for a small image pulled
	// from a public registry; 45 s.
	TaskStart time.Duration
	// TaskStop: a stopping task's containers get SIGTERM and at most their
	// stopTimeout before SIGKILL (ContainerDefinition.stopTimeout, ECS API
	// reference); WBO exits within 0.2 s (wbo.md) and the backup sidecar's
	// final sync takes seconds; 30 s.
	TaskStop time.Duration
	// TargetHealthy: a registered target initial → healthy: the target
	// group's interval × healthy threshold (Elastic Load Balancing User
	// Guide, "Health checks for Application Load Balancer target groups").
	// The stack's target groups check every 15 s and need 2 successes
	// (internal/provision/targetgroup.go): 30 s.
	TargetHealthy time.Duration
	// ServiceDrain: a deleted ECS service DRAINING → INACTIVE (ECS API
	// reference, DeleteService: "the service status moves from ACTIVE to
	// DRAINING, and the service is no longer visible ... after the tasks
	// in the service are stopped"): the targets' deregistration delay (30 s,
	// load_balancer.deregistration_delay) plus TaskStop; 60 s.
	ServiceDrain time.Duration
	// IAMPropagation: a new role is not yet assumable by ECS. IAM User
	// Guide, Troubleshooting ("Changes that I make are not always
	// immediately visible": eventual consistency); observed as a few
	// seconds (terraform-provider-aws retries ECS calls on it for 2 min).
	IAMPropagation time.Duration
	// ACMRecord: RequestCertificate answers the ARN at once, the DNS
	// validation record shows in DescribeCertificate's
	// DomainValidationOptions seconds later: "it normally takes a few
	// seconds before the validation DNS resource records are generated"
	// (pfulop/serverless-cloudfront-distribution-certificate#9, which polls
	// every 2 s); aws/aws-sdk-js#2133 (a 5 s sleep before describing);
	// hashicorp/terraform-provider-aws#9598 (retries while the options are
	// empty). 5 s.
	ACMRecord time.Duration
	// ACMValidation: from the validation CNAME visible in public DNS to
	// ISSUED. DataBiosphere/azul#8321 measured 23 s from request to ISSUED
	// with the record made at once; terraform-provider-aws waits up to 45
	// minutes by default ("Generally ACM Certificate validation should
	// complete before then", hashicorp/terraform-provider-aws#9338). 60 s.
	ACMValidation time.Duration
	// Route53Propagation: a change PENDING → INSYNC ("Changes generally
	// propagate to all Route 53 name servers within 60 seconds",
	// ChangeResourceRecordSets / GetChange API reference); records are
	// visible to resolvers only then (dns.go); 30 s.
	Route53Propagation time.Duration
}

// RealisticTiming is what AWS typically takes (the figures above).
func RealisticTiming() Timing {
	return Timing{
		VPCPending:          2 * time.Second,
		LoadBalancerActive:  2 * time.Minute,
		ENILinger:           5 * time.Minute,
		ReplicationGroup:    10 * time.Minute,
		ReplicationDeleting: 5 * time.Minute,
		ReplicationModify:   3 * time.Minute,
		TaskStart:           45 * time.Second,
		TaskStop:            30 * time.Second,
		TargetHealthy:       30 * time.Second,
		ServiceDrain:        60 * time.Second,
		IAMPropagation:      8 * time.Second,
		ACMRecord:           ACMRecordDelay,
		ACMValidation:       ACMValidationDelay,
		Route53Propagation:  Route53Propagation,
	}
}
