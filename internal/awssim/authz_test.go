package awssim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aast "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	st "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// clientsAs builds real SDK clients signing with accessKey.
func clientsAs(t *testing.T, c *Cloud, accessKey string) *awsclients.Clients {
	t.Helper()
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		APIOptions:  c.APIOptions(), RetryMode: "standard", MaxAttempts: 3, MaxBackoff: time.Millisecond,
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func allow(actions ...string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"}}})
	return string(b)
}

func mustIdentity(t *testing.T, c *Cloud, key string, docs ...string) {
	t.Helper()
	if err := c.SetIdentityPolicy(key, docs...); err != nil {
		t.Fatal(err)
	}
}

// httpStatus is the HTTP status the SDK saw for err (0 if none).
func httpStatus(err error) int {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	return 0
}

// Defect 1: CreateBucket with tags needs s3:TagResource ("You must have the
// s3:TagResource permission to create a general purpose bucket with tags",
// S3 CreateBucket API reference); without it the call is refused with 403
// AccessDenied and no bucket is made.
func TestCreateBucketWithTagsNeedsTagResource(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	mustIdentity(t, c, "AKIDOPERATOR", allow("s3:CreateBucket", "s3:PutBucketOwnershipControls"))
	cl := clientsAs(t, c, "AKIDOPERATOR").S3
	in := &s3.CreateBucketInput{Bucket: aws.String("wbo-tagged"), ObjectOwnership: st.ObjectOwnershipBucketOwnerEnforced,
		CreateBucketConfiguration: &st.CreateBucketConfiguration{Tags: []st.Tag{{Key: aws.String("team"), Value: aws.String("wbo")}}}}
	_, err := cl.CreateBucket(ctx, in)
	if apiCodeOf(err) != "AccessDenied" || httpStatus(err) != 403 {
		t.Fatalf("CreateBucket with tags, no s3:TagResource: %v (status %d), want 403 AccessDenied", err, httpStatus(err))
	}
	if !strings.Contains(err.Error(), "s3:TagResource") || !strings.Contains(err.Error(), "arn:aws:s3:::wbo-tagged") {
		t.Errorf("message does not name the action and bucket: %v", err)
	}
	for _, r := range c.Inventory() {
		if r.ID == "wbo-tagged" {
			t.Fatal("the refused CreateBucket made the bucket")
		}
	}
	calls := c.Calls()
	if last := calls[len(calls)-1]; last.Err != "AccessDenied" || last.Performed {
		t.Errorf("recorded call %+v, want Err AccessDenied and not performed", last)
	}
	mustIdentity(t, c, "AKIDOPERATOR", allow("s3:CreateBucket", "s3:PutBucketOwnershipControls", "s3:TagResource"))
	if _, err := cl.CreateBucket(ctx, in); err != nil {
		t.Fatalf("with s3:TagResource: %v", err)
	}
	calls = c.Calls()
	if got := strings.Join(calls[len(calls)-1].Actions, ","); got != "s3:CreateBucket,s3:PutBucketOwnershipControls,s3:TagResource" {
		t.Errorf("authorized as %s", got)
	}
}

// Each service answers a refused call with its own error (code and HTTP
// status), naming the caller, the action and the resource.
func TestDeniedErrorShapes(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	mustIdentity(t, c, "AKIDNOBODY") // a user with no policy
	cl := clientsAs(t, c, "AKIDNOBODY")
	cases := []struct {
		name, code string
		status     int
		action     string
		call       func() error
	}{
		{"EC2", "UnauthorizedOperation", 403, "ec2:CreateVpc", func() error {
			_, err := cl.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
			return err
		}},
		{"S3", "AccessDenied", 403, "s3:ListAllMyBuckets", func() error {
			_, err := cl.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
		{"IAM", "AccessDenied", 403, "iam:GetRole", func() error {
			_, err := cl.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
			return err
		}},
		{"ELBv2", "AccessDenied", 403, "elasticloadbalancing:DescribeLoadBalancers", func() error {
			_, err := cl.ELB.DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{})
			return err
		}},
		{"ECS", "AccessDeniedException", 400, "ecs:CreateCluster", func() error {
			_, err := cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
			return err
		}},
		{"Logs", "AccessDeniedException", 400, "logs:CreateLogGroup", func() error {
			_, err := cl.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")})
			return err
		}},
		{"SNS", "AuthorizationError", 403, "SNS:CreateTopic", func() error {
			_, err := cl.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
			return err
		}},
		{"Application Auto Scaling", "AccessDeniedException", 400, "application-autoscaling:RegisterScalableTarget", func() error {
			_, err := cl.AutoScaling.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
				ServiceNamespace: aast.ServiceNamespaceEcs, ResourceId: aws.String("service/c/s"),
				ScalableDimension: aast.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
			return err
		}},
	}
	for _, k := range cases {
		err := k.call()
		if apiCodeOf(err) != k.code || httpStatus(err) != k.status {
			t.Errorf("%s: %v (status %d), want %s %d", k.name, err, httpStatus(err), k.code, k.status)
			continue
		}
		var ae smithy.APIError
		errors.As(err, &ae)
		msg := ae.ErrorMessage()
		if !strings.Contains(msg, "User: arn:aws:iam::123456789012:user/AKIDNOBODY is not authorized to perform: "+k.action) ||
			!strings.Contains(msg, "because no identity-based policy allows") {
			t.Errorf("%s: message %q", k.name, msg)
		}
	}
	// EC2 appends an encoded authorization failure message saying what was
	// refused (sts:DecodeAuthorizationMessage decodes the real one).
	_, err := cl.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	_, enc, ok := strings.Cut(err.Error(), "Encoded authorization failure message: ")
	if !ok {
		t.Fatalf("no encoded message: %v", err)
	}
	raw, derr := base64.RawURLEncoding.DecodeString(strings.TrimSpace(enc))
	var doc struct {
		Allowed bool
		Context struct{ Action string }
	}
	if derr != nil || json.Unmarshal(raw, &doc) != nil || doc.Allowed || doc.Context.Action != "ec2:CreateVpc" {
		t.Errorf("encoded message %q: %v %+v", enc, derr, doc)
	}
}

// An explicit Deny overrides the Allow, and the message says so.
func TestExplicitDenyMessage(t *testing.T) {
	c := New(Options{})
	mustIdentity(t, c, "AKIDOP", AdministratorAccess,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"logs:DeleteLogGroup","Resource":"*"}]}`)
	_, err := clientsAs(t, c, "AKIDOP").Logs.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("g")})
	if apiCodeOf(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Fatalf("explicit deny: %v", err)
	}
}

// Once identities are registered, an access key AWS does not know fails
// authentication with the service's code, before authorization; an account
// with no registered identity is used with root credentials (all allowed).
func TestUnknownAccessKey(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	if _, err := clientsAs(t, c, "AKIDANY").EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("root credentials: %v", err)
	}
	id, err := clientsAs(t, c, "AKIDANY").STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:root" {
		t.Fatalf("root identity: %v %v", id, err)
	}
	mustIdentity(t, c, "AKIDOP", AdministratorAccess)
	stranger := clientsAs(t, c, "AKIDSTRANGER")
	for name, k := range map[string]struct {
		code string
		call func() error
	}{
		"EC2": {"AuthFailure", func() error { _, err := stranger.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err }},
		"S3":  {"InvalidAccessKeyId", func() error { _, err := stranger.S3.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }},
		"IAM": {"InvalidClientTokenId", func() error { _, err := stranger.IAM.ListRoles(ctx, &iam.ListRolesInput{}); return err }},
		"ECS": {"UnrecognizedClientException", func() error { _, err := stranger.ECS.ListServices(ctx, &ecs.ListServicesInput{}); return err }},
		"STS": {"InvalidClientTokenId", func() error { _, err := stranger.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }},
	} {
		if err := k.call(); apiCodeOf(err) != k.code {
			t.Errorf("%s with an unknown key: %v, want %s", name, err, k.code)
		}
	}
	id, err = clientsAs(t, c, "AKIDOP").STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/AKIDOP" {
		t.Fatalf("GetCallerIdentity needs no permission and names the user: %v %v", id, err)
	}
}

// Tag on create: EC2 authorizes ec2:CreateTags with ec2:CreateAction, so a
// policy may allow tagging only while creating ("Grant permission to tag
// resources during creation", EC2 User Guide).
func TestEC2TagOnCreate(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	onlyOnCreate := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateVpc","Resource":"*"},
		{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CreateVpc"}}}]}`
	mustIdentity(t, c, "AKIDOP", allow("ec2:CreateVpc"))
	cl := clientsAs(t, c, "AKIDOP").EC2
	in := &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), TagSpecifications: []ec2t.TagSpecification{{
		ResourceType: ec2t.ResourceTypeVpc, Tags: []ec2t.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("wbo")}}}}}
	if _, err := cl.CreateVpc(ctx, in); apiCodeOf(err) != "UnauthorizedOperation" || !strings.Contains(err.Error(), "ec2:CreateTags") {
		t.Fatalf("tags without ec2:CreateTags: %v", err)
	}
	mustIdentity(t, c, "AKIDOP", onlyOnCreate)
	if _, err := cl.CreateVpc(ctx, in); err != nil {
		t.Fatalf("tags allowed on create: %v", err)
	}
	if _, err := cl.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}); err != nil {
		t.Fatalf("untagged create: %v", err)
	}
}

// iam:PassRole with iam:PassedToService: an ECS task definition passing a
// role needs it ("Grant a user permissions to pass a role to an AWS
// service"); a PassRole limited to another service does not do.
func TestECSTaskDefinitionPassesRoles(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	role := "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task"
	pass := func(svc string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:RegisterTaskDefinition","Resource":"*"},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/wbo-deploy/*","Condition":{"StringEquals":{"iam:PassedToService":"` + svc + `"}}}]}`
	}
	in := ecsTaskDefInput("wbo", "lovasoa/wbo:latest")
	in.TaskRoleArn = aws.String(role)
	mustIdentity(t, c, "AKIDOP", pass("ec2.amazonaws.com"))
	cl := clientsAs(t, c, "AKIDOP").ECS
	if _, err := cl.RegisterTaskDefinition(ctx, in); apiCodeOf(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "iam:PassRole on resource: "+role) {
		t.Fatalf("PassRole for another service: %v", err)
	}
	mustIdentity(t, c, "AKIDOP", pass("ecs-tasks.amazonaws.com"))
	// Authorized, the call reaches ECS, which finds no such role.
	if _, err := cl.RegisterTaskDefinition(ctx, in); err == nil || strings.Contains(err.Error(), "not authorized") {
		t.Fatalf("PassRole to ecs-tasks: %v, want ECS's own answer", err)
	}
}

// AWS creates a service's service-linked role on first use, authorized as
// iam:CreateServiceLinkedRole; once the role exists the permission is no
// longer needed (ECS, "Using service-linked roles for Amazon ECS").
func TestServiceLinkedRoleOnFirstUse(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	mustIdentity(t, c, "AKIDOP", allow("ecs:CreateCluster"))
	cl := clientsAs(t, c, "AKIDOP").ECS
	_, err := cl.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	if apiCodeOf(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "iam:CreateServiceLinkedRole on resource: arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS") {
		t.Fatalf("first cluster without iam:CreateServiceLinkedRole: %v", err)
	}
	mustIdentity(t, c, "AKIDOP", allow("ecs:CreateCluster"), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole",
		"Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":"ecs.amazonaws.com"}}}]}`)
	if _, err := cl.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	if !c.HasServiceLinkedRole("ecs.amazonaws.com") {
		t.Fatal("the service-linked role was not created")
	}
	mustIdentity(t, c, "AKIDOP", allow("ecs:CreateCluster"))
	if _, err := cl.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c2")}); err != nil {
		t.Fatalf("with the role in place: %v", err)
	}
}

// S3 GetObject/HeadObject of a missing key: 404 with s3:ListBucket, 403
// without (S3 GetObject API reference, "Permissions").
func TestS3MissingKeyWithoutListBucket(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	if _, err := clientsAs(t, c, "AKIDROOT").S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("wbo-bkt")}); err != nil {
		t.Fatal(err)
	}
	mustIdentity(t, c, "AKIDREAD", allow("s3:GetObject"))
	mustIdentity(t, c, "AKIDLIST", allow("s3:GetObject", "s3:ListBucket"))
	read, list := clientsAs(t, c, "AKIDREAD").S3.(*s3.Client), clientsAs(t, c, "AKIDLIST").S3.(*s3.Client)
	_, err := read.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("wbo-bkt"), Key: aws.String("nope")})
	if apiCodeOf(err) != "AccessDenied" || httpStatus(err) != 403 {
		t.Errorf("GetObject without ListBucket: %v (%d)", err, httpStatus(err))
	}
	_, err = list.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("wbo-bkt"), Key: aws.String("nope")})
	if apiCodeOf(err) != "NoSuchKey" {
		t.Errorf("GetObject with ListBucket: %v", err)
	}
	_, err = read.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("wbo-bkt"), Key: aws.String("nope")})
	if apiCodeOf(err) != "Forbidden" || httpStatus(err) != 403 {
		t.Errorf("HeadObject without ListBucket: %v", err)
	}
	_, err = list.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("wbo-bkt"), Key: aws.String("nope")})
	if apiCodeOf(err) != "NotFound" {
		t.Errorf("HeadObject with ListBucket: %v", err)
	}
}

// DeleteObjects authorizes key by key: refused keys come back in Errors with
// AccessDenied, the others are deleted.
func TestS3DeleteObjectsPerKey(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	mustIdentity(t, c, "AKIDADMIN", AdministratorAccess)
	admin := clientsAs(t, c, "AKIDADMIN").S3.(*s3.Client)
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("wbo-bkt")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"boards/a", "keep/b"} {
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("wbo-bkt"), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	mustIdentity(t, c, "AKIDOP", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::wbo-bkt/boards/*"}]}`)
	out, err := clientsAs(t, c, "AKIDOP").S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("wbo-bkt"),
		Delete: &st.Delete{Objects: []st.ObjectIdentifier{{Key: aws.String("boards/a")}, {Key: aws.String("keep/b")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "boards/a" || len(out.Errors) != 1 ||
		aws.ToString(out.Errors[0].Key) != "keep/b" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("deleted %+v errors %+v", out.Deleted, out.Errors)
	}
}

// Every operation the tool's interfaces declare has an authorization rule or
// the documented default (prefix:Operation on "*"), and every table entry
// names an operation of a simulated service (no stale rows).
func TestAuthzTableNamesSimulatedOperations(t *testing.T) {
	c := New(Options{})
	for svc, rules := range authzTable {
		h := c.Service(svc)
		if h == nil {
			t.Errorf("authz table: service %q is not simulated", svc)
			continue
		}
		for op := range rules {
			if !reflect.ValueOf(h).MethodByName(op).IsValid() && !optionalOps[svc+"."+op] {
				t.Errorf("authz table: %s.%s is not a simulated operation", svc, op)
			}
		}
	}
}

// optionalOps are rows for operations other code paths may add (tagging
// calls); the rule is ready when the simulation grows them.
var optionalOps = map[string]bool{
	"EC2.AuthorizeSecurityGroupEgress": true, "Elastic Load Balancing v2.SetRulePriorities": true,
	"Elastic Load Balancing v2.AddTags": true, "Elastic Load Balancing v2.RemoveTags": true,
	"IAM.UntagRole": true, "IAM.UpdateRole": true, "CloudWatch Logs.DeleteRetentionPolicy": true,
	"CloudWatch Logs.TagResource": true, "ElastiCache.AddTagsToResource": true, "SNS.SetTopicAttributes": true,
	"SNS.TagResource": true,
}

// Application Auto Scaling validates the caller's permissions on the target
// before it proceeds and answers a ValidationException naming the missing
// one ("Permissions validation for Application Auto Scaling API calls on
// target resources"): registering an ECS service needs ecs:UpdateService.
func TestAutoScalingValidatesTargetPermissions(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	c.CreateServiceLinkedRoleFor("ecs.application-autoscaling.amazonaws.com")
	in := &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aast.ServiceNamespaceEcs,
		ResourceId: aws.String("service/wbo/wbo-app"), ScalableDimension: aast.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)}
	mustIdentity(t, c, "AKIDOP", allow("application-autoscaling:RegisterScalableTarget", "ecs:DescribeServices"))
	cl := clientsAs(t, c, "AKIDOP").AutoScaling
	_, err := cl.RegisterScalableTarget(ctx, in)
	if apiCodeOf(err) != "ValidationException" || !strings.Contains(err.Error(), "ecs:UpdateService on resource: arn:aws:ecs:us-east-1:123456789012:service/wbo/wbo-app") {
		t.Fatalf("without ecs:UpdateService: %v", err)
	}
	mustIdentity(t, c, "AKIDOP", allow("application-autoscaling:RegisterScalableTarget", "ecs:DescribeServices", "ecs:UpdateService"))
	// Authorized, the call reaches the service, which finds no such service.
	if _, err := cl.RegisterScalableTarget(ctx, in); err == nil || strings.Contains(err.Error(), "not authorized") {
		t.Fatalf("with the target permissions: %v, want the service's own answer", err)
	}
}

// ACM and Route 53 are authorized on their resources with their condition
// keys (Service Authorization Reference): ACM on the certificate ARN and,
// for a request with tags, acm:AddTagsToCertificate; Route 53 on
// arn:aws:route53:::hostedzone/ID (no region, no account) with the record
// names, types and actions of the batch, and GetChange on change/ID. ACM
// refuses with AccessDeniedException (400), Route 53 with AccessDenied (403).
func TestACMAndRoute53Authorization(t *testing.T) {
	ctx := context.Background()
	c := New(Options{ConsistencyMisses: -1})
	mustIdentity(t, c, "AKIDADMIN", AdministratorAccess)
	zone := c.CreateZone("example.com")
	cert := c.IssuedCertificate("board.example.com")
	mustIdentity(t, c, "AKIDNOBODY")
	nobody := clientsAs(t, c, "AKIDNOBODY")
	_, err := acm.NewFromConfig(nobody.Config()).DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(cert)})
	if apiCodeOf(err) != "AccessDeniedException" || httpStatus(err) != 400 ||
		!strings.Contains(err.Error(), "is not authorized to perform: acm:DescribeCertificate on resource: "+cert+" because no identity-based policy allows") {
		t.Fatalf("ACM denied: %v (%d)", err, httpStatus(err))
	}
	_, err = route53.NewFromConfig(nobody.Config()).GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("/hostedzone/" + zone)})
	if apiCodeOf(err) != "AccessDenied" || httpStatus(err) != 403 ||
		!strings.Contains(err.Error(), "route53:GetHostedZone on resource: arn:aws:route53:::hostedzone/"+zone+" ") {
		t.Fatalf("Route 53 denied: %v (%d)", err, httpStatus(err))
	}

	// Tags on RequestCertificate need acm:AddTagsToCertificate; a policy may
	// allow it for the stack tag only.
	mustIdentity(t, c, "AKIDOP", allow("acm:RequestCertificate"))
	a := acm.NewFromConfig(clientsAs(t, c, "AKIDOP").Config())
	in := &acm.RequestCertificateInput{DomainName: aws.String("board.example.com"), ValidationMethod: acmt.ValidationMethodDns,
		Tags: []acmt.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("wbo")}}}
	if _, err := a.RequestCertificate(ctx, in); apiCodeOf(err) != "AccessDeniedException" ||
		!strings.Contains(err.Error(), "acm:AddTagsToCertificate on resource: arn:aws:acm:us-east-1:123456789012:certificate/*") {
		t.Fatalf("tags without acm:AddTagsToCertificate: %v", err)
	}
	mustIdentity(t, c, "AKIDOP", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"acm:RequestCertificate","Resource":"*","Condition":{"StringEquals":{"acm:ValidationMethod":"DNS"},"ForAllValues:StringLike":{"acm:DomainNames":["*.example.com"]}}},
		{"Effect":"Allow","Action":"acm:AddTagsToCertificate","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["wbo-deploy:stack"]}}}]}`)
	if _, err := a.RequestCertificate(ctx, in); err != nil {
		t.Fatalf("tags allowed: %v", err)
	}
	calls := c.Calls()
	if got := strings.Join(calls[len(calls)-1].Actions, ","); got != "acm:AddTagsToCertificate,acm:RequestCertificate" {
		t.Errorf("authorized as %s", got)
	}
	in.DomainName = aws.String("board.example.org")
	if _, err := a.RequestCertificate(ctx, in); apiCodeOf(err) != "AccessDeniedException" {
		t.Fatalf("a domain acm:DomainNames does not allow: %v", err)
	}

	// Route 53: the validation CNAME only, and never DELETE.
	mustIdentity(t, c, "AKIDOP", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["route53:GetChange","route53:ListHostedZonesByName"],"Resource":"*"},
		{"Effect":"Allow","Action":"route53:ChangeResourceRecordSets","Resource":"arn:aws:route53:::hostedzone/`+zone+`","Condition":{
			"ForAllValues:StringEquals":{"route53:ChangeResourceRecordSetsRecordTypes":["CNAME"],"route53:ChangeResourceRecordSetsActions":["CREATE","UPSERT"]},
			"ForAllValues:StringLike":{"route53:ChangeResourceRecordSetsNormalizedRecordNames":["_*.board.example.com"]}}}]}`)
	r := route53.NewFromConfig(clientsAs(t, c, "AKIDOP").Config())
	cname := r53Set("_ABC.Board.Example.com.", r53t.RRTypeCname, 300, "_x.acm-validations.aws.")
	out, err := changeRecords(ctx, r, zone, change(r53t.ChangeActionUpsert, cname))
	if err != nil {
		t.Fatalf("the validation CNAME: %v", err)
	}
	if _, err := r.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}); err != nil {
		t.Fatalf("GetChange: %v", err)
	}
	for name, ch := range map[string]r53t.Change{
		"an A record":         change(r53t.ChangeActionCreate, r53Set("board.example.com", r53t.RRTypeA, 60, "192.0.2.1")),
		"a DELETE":            change(r53t.ChangeActionDelete, cname),
		"another name":        change(r53t.ChangeActionCreate, r53Set("_abc.wiki.example.com", r53t.RRTypeCname, 300, "_x.acm-validations.aws.")),
		"on another hostzone": {},
	} {
		z := zone
		if name == "on another hostzone" {
			z = c.CreateZone("example.net")
			ch = change(r53t.ChangeActionCreate, r53Set("_abc.board.example.net", r53t.RRTypeCname, 300, "_x.acm-validations.aws."))
		}
		if _, err := changeRecords(ctx, r, z, ch); apiCodeOf(err) != "AccessDenied" || httpStatus(err) != 403 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The condition keys as the Route 53 Developer Guide normalizes them.
	chk := authzChecks(c, "Route 53", "ChangeResourceRecordSets", &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("/hostedzone/" + zone),
		ChangeBatch: &r53t.ChangeBatch{Changes: []r53t.Change{change(r53t.ChangeActionUpsert, cname), change(r53t.ChangeActionDelete, r53Set("*.Example.com.", r53t.RRTypeTxt, 60, `"x"`))}}})
	if len(chk) != 1 || chk[0].resource != "arn:aws:route53:::hostedzone/"+zone ||
		strings.Join(chk[0].ctx["route53:ChangeResourceRecordSetsNormalizedRecordNames"], ",") != `_abc.board.example.com,\052.example.com` ||
		strings.Join(chk[0].ctx["route53:ChangeResourceRecordSetsRecordTypes"], ",") != "CNAME,TXT" ||
		strings.Join(chk[0].ctx["route53:ChangeResourceRecordSetsActions"], ",") != "UPSERT,DELETE" {
		t.Fatalf("checks %+v", chk)
	}
	if chk := authzChecks(c, "Route 53", "GetChange", &route53.GetChangeInput{Id: aws.String("/change/C123")}); chk[0].resource != "arn:aws:route53:::change/C123" {
		t.Fatalf("GetChange on %s", chk[0].resource)
	}
}
