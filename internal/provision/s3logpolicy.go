package provision

// elbLogAccounts are the Elastic Load Balancing accounts that deliver access
// logs in the Regions available before August 2022, from "Enable access logs
// for your Application Load Balancer", Step 2: Attach a policy to your S3
// bucket (Elastic Load Balancing User Guide for Application Load Balancers,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html),
// plus the GovCloud and China Regions from the same guide. A bucket policy in
// these Regions grants s3:PutObject to that account's root. Every Region
// available as of August 2022 or later (Hyderabad, Melbourne, Spain, Zurich,
// UAE, Tel Aviv, Calgary and all newer ones) grants it to the log delivery
// service principal instead (elbLogDeliveryPrincipal): a Region missing from
// this table is such a Region.
var elbLogAccounts = map[string]string{
	"us-east-1":      "127311923021", // US East (N. Virginia)
	"us-east-2":      "033677994240", // US East (Ohio)
	"us-west-1":      "027434742980", // US West (N. California)
	"us-west-2":      "797873946194", // US West (Oregon)
	"af-south-1":     "098369216593", // Africa (Cape Town)
	"ap-east-1":      "754344448648", // Asia Pacific (Hong Kong)
	"ap-southeast-3": "589379963580", // Asia Pacific (Jakarta)
	"ap-south-1":     "718504428378", // Asia Pacific (Mumbai)
	"ap-northeast-3": "383597477331", // Asia Pacific (Osaka)
	"ap-northeast-2": "600734575887", // Asia Pacific (Seoul)
	"ap-southeast-1": "114774131450", // Asia Pacific (Singapore)
	"ap-southeast-2": "783225319266", // Asia Pacific (Sydney)
	"ap-northeast-1": "582318560864", // Asia Pacific (Tokyo)
	"ca-central-1":   "985666609251", // Canada (Central)
	"eu-central-1":   "054676820928", // Europe (Frankfurt)
	"eu-west-1":      "156460612806", // Europe (Ireland)
	"eu-west-2":      "652711504416", // Europe (London)
	"eu-south-1":     "635631232127", // Europe (Milan)
	"eu-west-3":      "009996457667", // Europe (Paris)
	"eu-north-1":     "897822967062", // Europe (Stockholm)
	"me-south-1":     "076674570225", // Middle East (Bahrain)
	"sa-east-1":      "507241528517", // South America (São Paulo)
	"us-gov-west-1":  "048591011584", // AWS GovCloud (US-West)
	"us-gov-east-1":  "190560391635", // AWS GovCloud (US-East)
	"cn-north-1":     "638102146993", // China (Beijing)
	"cn-northwest-1": "037604701340", // China (Ningxia)
}

// elbLogDeliveryPrincipal writes access logs in Regions available as of
// August 2022 or later (same guide).
const elbLogDeliveryPrincipal = "logdelivery.elasticloadbalancing.amazonaws.com"

// accessLogPolicy is the access-log bucket's policy: ELB log delivery may put
// objects under AWSLogs/<account>/ (the load balancer logs without a prefix,
// so that is where every file lands), the S3 logging service may put the
// board bucket's server access logs under s3-access/ (s3logging.go), VPC flow
// log delivery may put its files under vpc-flow-logs/AWSLogs/<account>/
// (flowlog.go) and read the bucket's ACL, and requests not over TLS are
// denied.
func accessLogPolicy(env *Env, bucket string) policyDoc {
	arn := bucketARN(env, bucket)
	deliver := policyStmt{Sid: "ELBAccessLogDelivery", Effect: "Allow", Action: "s3:PutObject",
		Resource: arn + "/AWSLogs/" + env.Account() + "/*"}
	if acct, ok := elbLogAccounts[env.Region()]; ok {
		deliver.Principal = map[string]any{"AWS": "arn:" + arnPartition(env) + ":iam::" + acct + ":root"}
	} else {
		deliver.Principal = map[string]any{"Service": elbLogDeliveryPrincipal}
	}
	stmts := []policyStmt{deliver}
	stmts = append(stmts, s3AccessLogStatement(env, arn))
	stmts = append(stmts, flowLogStatements(env, arn)...)
	return policyDoc{Version: "2012-10-17", Statement: append(stmts, denyInsecureTransport(arn))}
}

// s3LoggingPrincipal is the service that writes S3 server access logs.
const s3LoggingPrincipal = "logging.s3.amazonaws.com"

// s3AccessLogStatement lets S3 server access logging write the board
// bucket's logs under s3-access/: the bucket policy of "Permissions for log
// delivery" (S3 User Guide, "Enabling Amazon S3 server access logging",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html#grant-log-delivery-permissions-general):
// Principal logging.s3.amazonaws.com, s3:PutObject on the destination
// prefix, with aws:SourceArn the source bucket and aws:SourceAccount its
// account. ACLs are disabled on the log bucket (BucketOwnerEnforced), so the
// policy is the only way to grant it.
func s3AccessLogStatement(env *Env, logBucketARN string) policyStmt {
	source := bucketARN(env, env.Cfg.BoardBucket(env.Account(), env.Region()))
	return policyStmt{Sid: "S3ServerAccessLogDelivery", Effect: "Allow",
		Principal: map[string]any{"Service": s3LoggingPrincipal}, Action: "s3:PutObject",
		Resource: logBucketARN + "/" + s3AccessLogPrefix + "*",
		Condition: map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": source},
			"StringEquals": map[string]any{"aws:SourceAccount": env.Account()},
		}}
}

// flowLogDeliveryPrincipal delivers VPC flow logs (and other vended logs)
// to S3.
const flowLogDeliveryPrincipal = "delivery.logs.amazonaws.com"

// flowLogStatements are the two statements of "Amazon S3 bucket permissions
// for flow logs" (Amazon VPC User Guide,
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html):
// AWSLogDeliveryWrite, s3:PutObject on <folder>/AWSLogs/<account>/* with
// aws:SourceAccount, aws:SourceArn arn:aws:logs:<region>:<account>:* and
// s3:x-amz-acl bucket-owner-full-control; AWSLogDeliveryAclCheck,
// s3:GetBucketAcl on the bucket with the same source conditions. The ACL
// condition stays although the bucket's ACLs are disabled: delivery still
// sends that canned ACL, the one ACL a BucketOwnerEnforced bucket accepts
// (S3 User Guide, "Controlling ownership of objects"), and the guide's
// policy, which AWS attaches itself when it may, keeps it. Writing the same
// statements ourselves means delivery finds them and does not rewrite the
// policy.
func flowLogStatements(env *Env, logBucketARN string) []policyStmt {
	acct := env.Account()
	source := "arn:" + arnPartition(env) + ":logs:" + env.Region() + ":" + acct + ":*"
	return []policyStmt{{
		Sid: "AWSLogDeliveryWrite", Effect: "Allow", Principal: map[string]any{"Service": flowLogDeliveryPrincipal},
		Action: "s3:PutObject", Resource: logBucketARN + "/" + flowLogPrefix + "AWSLogs/" + acct + "/*",
		Condition: map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": acct, "s3:x-amz-acl": "bucket-owner-full-control"},
			"ArnLike":      map[string]any{"aws:SourceArn": source},
		},
	}, {
		Sid: "AWSLogDeliveryAclCheck", Effect: "Allow", Principal: map[string]any{"Service": flowLogDeliveryPrincipal},
		Action: "s3:GetBucketAcl", Resource: logBucketARN,
		Condition: map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": acct},
			"ArnLike":      map[string]any{"aws:SourceArn": source},
		},
	}}
}

// boardsBucketPolicy denies every request to the board bucket that does not
// come over TLS.
func boardsBucketPolicy(env *Env, bucket string) policyDoc {
	return policyDoc{Version: "2012-10-17", Statement: []policyStmt{denyInsecureTransport(bucketARN(env, bucket))}}
}

// denyInsecureTransport is the statement the S3 User Guide recommends to
// enforce encryption in transit ("Security best practices for Amazon S3":
// deny all s3 actions when aws:SecureTransport is false), on the bucket and
// on its objects.
func denyInsecureTransport(arn string) policyStmt {
	return policyStmt{Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*",
		Resource:  []string{arn, arn + "/*"},
		Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}
}
