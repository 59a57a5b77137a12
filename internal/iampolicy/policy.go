// Package iampolicy writes the least-privilege IAM policy an operator needs
// to run wbo-deploy for a given configuration (`wbo-deploy iam-policy`).
//
// The actions are derived from the AWS calls the tool can make: the methods
// of the small client interfaces in internal/awsclients, mapped to IAM
// actions (mostly the same name; S3 differs, see s3Actions), plus the
// actions AWS checks on our behalf without a call of that name (tagging on
// create, iam:PassRole, service-linked roles). The simulated cloud is the
// judge: the whole-stack tests run as an operator holding exactly this
// policy, so a call it does not allow fails them; and a coverage test checks
// that every action of the policy is authorized by some call of a full cycle
// (or is documented as repair-only or conditional).
package iampolicy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// Options change what the policy covers.
type Options struct {
	// LivePrices adds pricing:GetProducts for `cost --live-prices`.
	LivePrices bool
}

// Service is one AWS service the tool calls.
type Service struct {
	Prefix string       // IAM action prefix
	API    reflect.Type // the awsclients interface
	// Needed says whether the configuration uses the service.
	Needed func(cfg *config.Config) bool
}

func iface[T any]() reflect.Type { return reflect.TypeOf((*T)(nil)).Elem() }

func always(*config.Config) bool { return true }

// Services lists every service, keyed by the SDK's service ID (as the
// simulated cloud records calls).
var Services = map[string]Service{
	"EC2":                       {"ec2", iface[awsclients.EC2API](), always},
	"Elastic Load Balancing v2": {"elasticloadbalancing", iface[awsclients.ELBv2API](), always},
	"ECS":                       {"ecs", iface[awsclients.ECSAPI](), always},
	"IAM":                       {"iam", iface[awsclients.IAMAPI](), always},
	"S3":                        {"s3", iface[awsclients.S3API](), always},
	"CloudWatch Logs":           {"logs", iface[awsclients.LogsAPI](), always},
	// Shared mode scales the service: step scaling has its own alarms, and
	// Application Auto Scaling checks that the caller may describe, put and
	// delete the alarms of target tracking policies ("Permissions validation
	// for Application Auto Scaling API calls on target resources").
	"CloudWatch": {"cloudwatch", iface[awsclients.CloudWatchAPI](), func(c *config.Config) bool {
		return c.Alarms.Enabled || c.Dashboard.Enabled || c.App.Mode == config.ModeShared
	}},
	"ElastiCache":              {"elasticache", iface[awsclients.ElastiCacheAPI](), func(c *config.Config) bool { return c.RedisEnabled() }},
	"SNS":                      {"sns", iface[awsclients.SNSAPI](), func(c *config.Config) bool { return c.Alarms.Enabled }},
	"Application Auto Scaling": {"application-autoscaling", iface[awsclients.AutoScalingAPI](), func(c *config.Config) bool { return c.App.Mode == config.ModeShared }},
	// KMS DescribeKey resolves storage.kms_key_id given as an alias to the
	// key the task role may use (provision/kmskey.go).
	// It also resolves the KMS key alias of a secret app.secrets names by
	// ARN, for the execution role's kms:Decrypt (provision/secretref.go).
	"KMS": {"kms", iface[awsclients.KMSAPI](), func(c *config.Config) bool {
		return kmsAlias(c.Storage.KMSKeyID) || hasSecretSource(c, "secretsmanager") || hasSecretSource(c, "ssm")
	}},
	// Secrets Manager holds the stack-owned secrets of app.secrets (NAME:
	// stack) and is read for the secrets it names by ARN.
	"Secrets Manager": {"secretsmanager", iface[awsclients.SecretsManagerAPI](), func(c *config.Config) bool {
		for _, v := range c.App.Secrets {
			if src := config.SecretSource(v); src == config.SecretStack || src == "secretsmanager" {
				return true
			}
		}
		return false
	}},
	// SSM is read for the SecureString parameters app.secrets names.
	"SSM": {"ssm", iface[awsclients.SSMAPI](), func(c *config.Config) bool { return hasSecretSource(c, "ssm") }},
	// ACM and Route 53: the certificate of domain.name, its validation
	// record and the domain's alias record (provision/certificate.go,
	// dnsrecord.go). Without a domain, only the reads and deletions that
	// remove what an earlier domain.name made.
	"ACM":      {"acm", iface[awsclients.ACMAPI](), func(c *config.Config) bool { return c.DomainName() != "" }},
	"Route 53": {"route53", iface[awsclients.Route53API](), func(c *config.Config) bool { return c.DomainName() != "" }},
	// STS GetCallerIdentity needs no permission ("No permissions are
	// required to perform this operation", STS API reference).
	"STS": {"", iface[awsclients.STSAPI](), always},
}

// lookupOnly are services in which wbo-deploy holds no resource: it only
// reads what the configuration names. Destroy and status never look there
// for the stack's resources, so a configuration that does not use such a
// service gets none of its actions, not even the read-only ones.
var lookupOnly = map[string]bool{"KMS": true, "SSM": true}

// valueReads read a secret's value (for `token`): never granted to a
// configuration without secrets, although their names read like lookups.
var valueReads = map[string]bool{"GetSecretValue": true, "GetParameter": true}

func hasSecretSource(c *config.Config, src string) bool {
	for _, v := range c.App.Secrets {
		if config.SecretSource(v) == src {
			return true
		}
	}
	return false
}

// kmsAlias reports whether storage.kms_key_id names an alias (alias/NAME or
// an alias ARN), the only form wbo-deploy resolves with DescribeKey; a key
// ID or key ARN goes into the policies as it is, with no KMS call.
func kmsAlias(k string) bool {
	if strings.HasPrefix(k, "arn:") {
		parts := strings.SplitN(k, ":", 6)
		return len(parts) == 6 && strings.HasPrefix(parts[5], "alias/")
	}
	return strings.HasPrefix(k, "alias/")
}

// s3Actions maps S3 operations whose IAM action has another name (Amazon S3
// User Guide, "Required permissions for Amazon S3 API operations").
var s3Actions = map[string][]string{
	"HeadBucket":                      {"s3:ListBucket"},
	"ListBuckets":                     {"s3:ListAllMyBuckets"},
	"ListObjectsV2":                   {"s3:ListBucket"},
	"ListObjectVersions":              {"s3:ListBucketVersions"},
	"PutBucketLifecycleConfiguration": {"s3:PutLifecycleConfiguration"},
	"GetBucketLifecycleConfiguration": {"s3:GetLifecycleConfiguration"},
	"PutPublicAccessBlock":            {"s3:PutBucketPublicAccessBlock"},
	"GetPublicAccessBlock":            {"s3:GetBucketPublicAccessBlock"},
	"PutBucketEncryption":             {"s3:PutEncryptionConfiguration"},
	"GetBucketEncryption":             {"s3:GetEncryptionConfiguration"},
	// Deleting specific versions needs s3:DeleteObjectVersion.
	"DeleteObjects": {"s3:DeleteObject", "s3:DeleteObjectVersion"},
	// Reading a specific version (boards restore) needs s3:GetObjectVersion
	// ("To get a specific version of an object, you must have the
	// s3:GetObjectVersion permission", S3 GetObject API reference).
	"GetObject": {"s3:GetObject", "s3:GetObjectVersion"},
	// "To use HEAD, you must have the s3:GetObject permission" (HeadObject
	// API reference).
	"HeadObject": {"s3:GetObject"},
}

// State bucket (state.bucket): the calls on the state and lock objects, and
// the calls of `state init-backend`, each granted on the state bucket alone.
var (
	stateObjectAPI = iface[awsclients.S3StateAPI]()
	stateBucketAPI = iface[awsclients.S3StateBucketAPI]()
)

// Actions maps one SDK operation of a service to its IAM actions.
func Actions(serviceID, op string) []string {
	svc, ok := Services[serviceID]
	if !ok || svc.Prefix == "" {
		return nil
	}
	if svc.Prefix == "s3" {
		if a, ok := s3Actions[op]; ok {
			return a
		}
	}
	return []string{svc.Prefix + ":" + op}
}

// Implicit are actions AWS authorizes without an API call of that name,
// with why. The simulated account authorizes (and records) them as AWS does,
// so the coverage test sees each one used.
var Implicit = map[string]string{
	"ec2:CreateTags": "tags in TagSpecifications of EC2 create calls",
	// "You must have the s3:TagResource permission to create a general
	// purpose bucket with tags" (S3 CreateBucket API reference).
	"s3:TagResource": "tags in CreateBucketConfiguration.Tags of CreateBucket (s3bucket.go)",
	// "If your CreateBucket request includes the x-amz-object-ownership
	// header, then the s3:PutBucketOwnershipControls permission is required"
	// (S3 CreateBucket API reference, "Permissions").
	"s3:PutBucketOwnershipControls": "ObjectOwnership BucketOwnerEnforced in CreateBucket (s3bucket.go); also repairs ownership changed by hand (s3config.go)",
	"elasticloadbalancing:AddTags":  "tags in ELBv2 create calls",
	"ecs:TagResource":               "tags in ECS create calls",
	"iam:TagRole":                   "tags in CreateRole",
	"logs:TagResource":              "tags in CreateLogGroup",
	"elasticache:AddTagsToResource": "tags in ElastiCache create calls",
	"sns:TagResource":               "tags in CreateTopic",
	"secretsmanager:TagResource":    "tags in CreateSecret (CreateSecret reference: \"To add tags to the secret, you must also have secretsmanager:TagResource\")",
	"cloudwatch:TagResource":        "tags in PutMetricAlarm",
	// "To add tags to a certificate when you request it, you must have
	// acm:AddTagsToCertificate" (ACM User Guide, "Tagging resources").
	"acm:AddTagsToCertificate":    "tags in RequestCertificate (certificate.go)",
	"iam:PassRole":                "ECS task definitions pass the task and execution roles",
	"iam:CreateServiceLinkedRole": "ECS, ELB, ElastiCache and Application Auto Scaling create their service-linked roles on first use",
	// "The IAM principal that creates the flow log must ... have the
	// following permissions, which are required to publish flow logs to the
	// destination Amazon S3 bucket": logs:CreateLogDelivery and
	// logs:DeleteLogDelivery (Amazon VPC User Guide, "Create a flow log that
	// publishes to Amazon S3").
	"logs:CreateLogDelivery": "ec2:CreateFlowLogs to an S3 bucket sets up the log delivery (flowlog.go)",
	"logs:DeleteLogDelivery": "ec2:DeleteFlowLogs of a flow log to S3 removes its log delivery (flowlog.go)",
	// "To retrieve a secret that is encrypted with a customer managed key,
	// you need kms:Decrypt permission for the key" (Secrets Manager User
	// Guide, "Secret encryption and decryption"); likewise for a SecureString
	// parameter (Parameter Store, "How Parameter Store uses AWS KMS").
	"kms:Decrypt": "GetSecretValue / GetParameter of an app.secrets value under a customer managed key (token, the probe's sign-in)",
}

// implicitNeeded narrows an implicit action to the configurations that
// can need it (the others get it whenever its service's prefix is in the
// policy).
var implicitNeeded = map[string]func(*config.Config) bool{
	// Only the values of secrets the configuration names by ARN can be
	// under a customer managed key.
	"kms:Decrypt": func(c *config.Config) bool { return hasSecretSource(c, "secretsmanager") || hasSecretSource(c, "ssm") },
}

// Conditional are actions whose use depends on what AWS does and when, not
// on the configuration: a cycle may or may not need them. They stay in the
// policy; the coverage test neither requires nor forbids their use, so its
// outcome does not depend on scheduling.
var Conditional = map[string]string{
	"ec2:DescribeNetworkInterfaces": "a subnet or security group deletion refused while ENIs of a deleted load balancer or task linger (subnet.go, secgroup.go reapDetachedENIs)",
}

// RepairOnly are actions the tool makes only to repair drift made outside
// it (or to clean up after AWS), which a normal cycle never needs; they stay
// in the policy so that up can always converge. The test checks each is in
// the policy and names what it repairs.
var RepairOnly = map[string]string{
	"ec2:ReplaceRoute":                       "a default route pointed elsewhere by hand (routetable.go)",
	"ec2:DeleteNetworkInterface":             "detached, non-service-managed ENIs left in our subnets (subnet.go, secgroup.go)",
	"elasticache:ModifyCacheSubnetGroup":     "the Redis subnet group's subnets changed by hand (elasticache.go)",
	"elasticloadbalancing:SetSecurityGroups": "the load balancer's security groups changed by hand (alb.go)",
	"elasticloadbalancing:SetSubnets":        "the load balancer's subnets changed by hand (alb.go)",
	"iam:UpdateAssumeRolePolicy":             "a role's trust policy edited by hand (iamrole.go)",
	"s3:GetBucketLocation":                   "a bucket of that name found in another region (s3bucket.go)",
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// JSON renders the document.
func (d *Document) JSON() ([]byte, error) { return json.MarshalIndent(d, "", "  ") }

// String is the document as JSON (it holds only strings, lists and maps of
// them, so rendering cannot fail).
func (d *Document) String() string {
	b, err := d.JSON()
	if err != nil {
		return fmt.Sprintf("{%q: %q}", "Error", err.Error())
	}
	return string(b)
}

// ActionSet returns every action of the document.
func (d *Document) ActionSet() map[string]bool {
	out := map[string]bool{}
	for _, s := range d.Statement {
		for _, a := range s.Action {
			out[a] = true
		}
	}
	return out
}

// Build writes the policy for cfg in account/region (account may be "*"
// when unknown).
func Build(cfg *config.Config, partition, account, region string, o Options) *Document {
	if partition == "" {
		partition = "aws"
	}
	if account == "" {
		account = "*"
	}
	if region == "" {
		region = "*"
	}
	byPrefix := map[string]map[string]bool{}
	addAct := func(a string) {
		p := a[:strings.Index(a, ":")]
		if byPrefix[p] == nil {
			byPrefix[p] = map[string]bool{}
		}
		byPrefix[p][a] = true
	}
	ids := make([]string, 0, len(Services))
	for id := range Services {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		svc := Services[id]
		if svc.Prefix == "" {
			continue
		}
		needed := svc.Needed(cfg)
		for i := 0; i < svc.API.NumMethod(); i++ {
			op := svc.API.Method(i).Name
			// A service the configuration does not use still gets its
			// read-only and teardown calls: destroy and status look for the
			// stack's resources everywhere (a lost state, an older
			// configuration), and up and destroy delete what an older
			// configuration made there (alarms switched off leave a topic
			// and alarms to delete). Reads of secret values are never
			// granted to a configuration that has no secrets.
			if !needed && (lookupOnly[id] || !readOnly(op) && !teardown(op) || valueReads[op]) {
				continue
			}
			for _, a := range Actions(id, op) {
				addAct(a)
			}
		}
	}
	for a, why := range Implicit {
		if why == "" {
			continue
		}
		if needs, ok := implicitNeeded[a]; ok && !needs(cfg) {
			continue
		}
		p := a[:strings.Index(a, ":")]
		if byPrefix[p] != nil || p == "iam" {
			addAct(a)
		}
	}
	if o.LivePrices {
		addAct("pricing:GetProducts")
	}
	list := func(m map[string]bool, keep func(string) bool) []string {
		var out []string
		for a := range m {
			if keep(a) {
				out = append(out, a)
			}
		}
		sort.Strings(out)
		return out
	}
	all := func(string) bool { return true }
	doc := &Document{Version: "2012-10-17"}
	prefixes := make([]string, 0, len(byPrefix))
	for p := range byPrefix {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	roleARN := fmt.Sprintf("arn:%s:iam::%s:role%s*", partition, account, config.IAMRolePath)
	for _, p := range prefixes {
		acts := byPrefix[p]
		sid := sidOf(p)
		switch p {
		case "iam":
			pass := acts["iam:PassRole"]
			slr := acts["iam:CreateServiceLinkedRole"]
			// iam:ListRoles has no resource type: it is authorized on "*"
			// (Service Authorization Reference, IAM: ListRoles).
			unscoped := func(a string) bool { return a == "iam:ListRoles" }
			rest := list(acts, func(a string) bool {
				return a != "iam:PassRole" && a != "iam:CreateServiceLinkedRole" && !unscoped(a)
			})
			doc.Statement = append(doc.Statement, Statement{Sid: "IamListRoles", Effect: "Allow", Action: list(acts, unscoped), Resource: "*"})
			doc.Statement = append(doc.Statement, Statement{Sid: "IamStackRoles", Effect: "Allow", Action: rest, Resource: roleARN})
			// Reading a role that does not exist (yet, or any more: a
			// destroy re-run after the role went) is authorized on the ARN
			// IAM can build from the name alone, without the path; with
			// these, the tool learns NoSuchEntity instead of AccessDenied.
			// Only reads: nothing here may change a same-named role of
			// someone else's outside the path.
			lookups := list(acts, func(a string) bool { return readOnly(strings.TrimPrefix(a, "iam:")) && !unscoped(a) })
			if len(lookups) > 0 {
				names := cfg.Names()
				doc.Statement = append(doc.Statement, Statement{Sid: "IamLookUpStackRoles", Effect: "Allow", Action: lookups,
					Resource: []string{fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, names.ExecutionRole),
						fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, names.TaskRole)}})
			}
			if pass {
				doc.Statement = append(doc.Statement, Statement{Sid: "IamPassStackRoles", Effect: "Allow", Action: []string{"iam:PassRole"},
					Resource: roleARN, Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}})
			}
			if slr {
				doc.Statement = append(doc.Statement, Statement{Sid: "IamServiceLinkedRoles", Effect: "Allow", Action: []string{"iam:CreateServiceLinkedRole"},
					Resource: fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/*", partition, account),
					Condition: map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": []string{
						"ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "elasticache.amazonaws.com", "ecs.application-autoscaling.amazonaws.com"}}}})
			}
		case "s3":
			buckets := []string{
				fmt.Sprintf("arn:%s:s3:::%s", partition, cfg.BoardBucket(account, region)),
				fmt.Sprintf("arn:%s:s3:::%s", partition, cfg.AccessLogBucket(account, region)),
			}
			if account == "*" || region == "*" {
				buckets = []string{fmt.Sprintf("arn:%s:s3:::%s-*", partition, cfg.Stack)}
				if cfg.Storage.Bucket != "" {
					buckets = append(buckets, fmt.Sprintf("arn:%s:s3:::%s", partition, cfg.Storage.Bucket))
				}
			}
			var objects []string
			for _, b := range buckets {
				objects = append(objects, b+"/*")
			}
			isObj := func(a string) bool {
				return a == "s3:GetObject" || a == "s3:GetObjectVersion" || a == "s3:PutObject" || a == "s3:DeleteObject" || a == "s3:DeleteObjectVersion"
			}
			doc.Statement = append(doc.Statement,
				Statement{Sid: "S3ListBuckets", Effect: "Allow", Action: list(acts, func(a string) bool { return a == "s3:ListAllMyBuckets" }), Resource: "*"},
				Statement{Sid: "S3StackBuckets", Effect: "Allow", Action: list(acts, func(a string) bool { return a != "s3:ListAllMyBuckets" && !isObj(a) }), Resource: buckets},
				Statement{Sid: "S3StackObjects", Effect: "Allow", Action: list(acts, isObj), Resource: objects})
		case "secretsmanager":
			// Secrets by ARN (Service Authorization Reference, AWS Secrets
			// Manager: every action but ListSecrets takes the secret
			// resource); the stack's own are wbo-deploy/<stack>/*.
			res := []string{fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s*", partition, region, account, cfg.SecretName(""))}
			for _, name := range cfg.SecretNames() {
				if v := cfg.App.Secrets[name]; config.SecretSource(v) == "secretsmanager" {
					res = append(res, v)
				}
			}
			doc.Statement = append(doc.Statement,
				Statement{Sid: "SecretsManagerList", Effect: "Allow", Action: list(acts, func(a string) bool { return a == "secretsmanager:ListSecrets" }), Resource: "*"},
				Statement{Sid: "SecretsManagerStackSecrets", Effect: "Allow", Action: list(acts, func(a string) bool { return a != "secretsmanager:ListSecrets" }), Resource: res})
		case "ssm":
			// ssm:DescribeParameters takes no resource; GetParameter takes
			// the parameter (Service Authorization Reference, AWS Systems Manager).
			var res []string
			for _, name := range cfg.SecretNames() {
				if v := cfg.App.Secrets[name]; config.SecretSource(v) == "ssm" {
					res = append(res, v)
				}
			}
			doc.Statement = append(doc.Statement,
				Statement{Sid: "SsmDescribe", Effect: "Allow", Action: list(acts, func(a string) bool { return a == "ssm:DescribeParameters" }), Resource: "*"})
			if len(res) > 0 {
				doc.Statement = append(doc.Statement, Statement{Sid: "SsmSecretParameters", Effect: "Allow", Action: list(acts, func(a string) bool { return a != "ssm:DescribeParameters" }), Resource: res})
			}
		case "kms":
			// kms:Decrypt only through the services holding app.secrets
			// values (kms:ViaService), on the account's keys: the key of a
			// user's secret is known only once it is described.
			isDecrypt := func(a string) bool { return a == "kms:Decrypt" }
			doc.Statement = append(doc.Statement, Statement{Sid: sid, Effect: "Allow", Action: list(acts, func(a string) bool { return !isDecrypt(a) }), Resource: "*"})
			var via []string
			for _, src := range []string{"secretsmanager", "ssm"} {
				if hasSecretSource(cfg, src) {
					via = append(via, src+"."+region+".amazonaws.com")
				}
			}
			doc.Statement = append(doc.Statement, Statement{Sid: "KmsDecryptSecretValues", Effect: "Allow", Action: list(acts, isDecrypt),
				Resource:  fmt.Sprintf("arn:%s:kms:%s:%s:key/*", partition, region, account),
				Condition: map[string]any{"StringLike": map[string]any{"kms:ViaService": via}}}) // StringLike: region may be "*"
		case "acm":
			// RequestCertificate and ListCertificates take no resource; the
			// rest take the certificate (Service Authorization Reference,
			// AWS Certificate Manager).
			unscoped := func(a string) bool { return a == "acm:RequestCertificate" || a == "acm:ListCertificates" }
			doc.Statement = append(doc.Statement,
				Statement{Sid: "AcmRequest", Effect: "Allow", Action: list(acts, unscoped), Resource: "*"},
				Statement{Sid: "AcmStackCertificates", Effect: "Allow", Action: list(acts, func(a string) bool { return !unscoped(a) }),
					Resource: fmt.Sprintf("arn:%s:acm:%s:%s:certificate/*", partition, region, account)})
		case "route53":
			doc.Statement = append(doc.Statement, route53Statements(cfg, partition, acts, list)...)
		default:
			// Describe/List calls of these services do not support
			// resource-level permissions, and created resources have IDs
			// unknown in advance; the actions are still exactly those used.
			doc.Statement = append(doc.Statement, Statement{Sid: sid, Effect: "Allow", Action: list(acts, all), Resource: "*"})
		}
	}
	doc.Statement = append(doc.Statement, stateStatements(cfg, partition)...)
	var kept []Statement
	for _, s := range doc.Statement {
		if len(s.Action) > 0 {
			kept = append(kept, s)
		}
	}
	doc.Statement = kept
	return doc
}

// route53Statements scope Route 53: zones are listed on "*"; record changes
// are allowed only for the records of domain.name (the name itself and the
// names below it: the validation CNAME and the ownership TXT records), of the
// types wbo-deploy writes, in the configured zone or any zone (Amazon Route
// 53 Developer Guide, "Using IAM policy conditions for fine-grained access
// control": route53:ChangeResourceRecordSetsNormalizedRecordNames, ...RecordTypes,
// ...Actions), and deletions of those types under any name, for the records
// an earlier domain.name made.
func route53Statements(cfg *config.Config, partition string, acts map[string]bool, list func(map[string]bool, func(string) bool) []string) []Statement {
	anyZone := fmt.Sprintf("arn:%s:route53:::hostedzone/*", partition)
	zone := anyZone
	if id := cfg.HostedZoneID(); id != "" {
		zone = fmt.Sprintf("arn:%s:route53:::hostedzone/%s", partition, id)
	}
	isList := func(a string) bool { return a == "route53:ListHostedZonesByName" }
	isChange := func(a string) bool { return a == "route53:ChangeResourceRecordSets" }
	isGetChange := func(a string) bool { return a == "route53:GetChange" }
	out := []Statement{
		{Sid: "Route53Zones", Effect: "Allow", Action: list(acts, isList), Resource: "*"},
		{Sid: "Route53Changes", Effect: "Allow", Action: list(acts, isGetChange), Resource: fmt.Sprintf("arn:%s:route53:::change/*", partition)},
		// Reads and deletions reach every zone: the records an earlier
		// domain.name or hosted_zone_id made may be in another one.
		{Sid: "Route53ZoneReads", Effect: "Allow", Action: list(acts, func(a string) bool { return !isList(a) && !isChange(a) && !isGetChange(a) }), Resource: anyZone},
	}
	types := []string{"A", "CNAME", "TXT"}
	if d := cfg.DomainName(); d != "" {
		out = append(out, Statement{Sid: "Route53DomainRecords", Effect: "Allow", Action: list(acts, isChange), Resource: zone, Condition: map[string]any{
			"ForAllValues:StringEquals": map[string]any{"route53:ChangeResourceRecordSetsRecordTypes": types},
			"ForAllValues:StringLike":   map[string]any{"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{d, "*." + d}},
		}})
	}
	// The records of an earlier domain.name (a domain change, or the
	// domain given up) are deleted by a configuration that no longer names
	// them: deletions of those types are allowed under any name. wbo-deploy
	// deletes only records whose ownership TXT is the stack's (dnsrecord.go).
	out = append(out, Statement{Sid: "Route53DeleteEarlierRecords", Effect: "Allow", Action: list(acts, isChange), Resource: anyZone, Condition: map[string]any{
		"ForAllValues:StringEquals": map[string]any{"route53:ChangeResourceRecordSetsRecordTypes": types, "route53:ChangeResourceRecordSetsActions": []string{"DELETE"}},
	}})
	return out
}

// sidOf turns an action prefix into a statement ID: "application-autoscaling"
// becomes "ApplicationAutoscaling".
func sidOf(prefix string) string {
	var b strings.Builder
	up := true
	for _, r := range prefix {
		switch {
		case r == '-':
			up = true
		case up && r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			up = false
		default:
			b.WriteRune(r)
			up = false
		}
	}
	return b.String()
}

// teardown reports whether an operation removes something, by its name.
// Route 53's ChangeResourceRecordSets also deletes: without a domain it is
// granted for DELETE only (route53Statements).
func teardown(op string) bool {
	if op == "ChangeResourceRecordSets" {
		return true
	}
	for _, p := range []string{"Delete", "Deregister", "Unsubscribe", "Detach", "Disassociate"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// readOnly reports whether an operation only reads, by its name.
func readOnly(op string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Head", "Filter"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// withAction adds a to the sorted action list acts (once).
func withAction(acts []string, a string) []string {
	for _, x := range acts {
		if x == a {
			return acts
		}
	}
	acts = append(acts, a)
	sort.Strings(acts)
	return acts
}

// stateStatements grant the state bucket's calls when the configuration
// names one (state.bucket, with either backend: `state migrate` and `state
// init-backend` use it before the switch), scoped to that bucket, and the
// object calls to its state and lock objects only. They are their own
// statements (Sid State*) so that they can go to other credentials when the
// state bucket is in another account (state.profile).
func stateStatements(cfg *config.Config, partition string) []Statement {
	if cfg.State.Bucket == "" {
		return nil
	}
	actionsOf := func(api reflect.Type) []string {
		set := map[string]bool{}
		for i := 0; i < api.NumMethod(); i++ {
			for _, a := range Actions("S3", api.Method(i).Name) {
				set[a] = true
			}
		}
		out := make([]string, 0, len(set))
		for a := range set {
			out = append(out, a)
		}
		sort.Strings(out)
		return out
	}
	bucket := fmt.Sprintf("arn:%s:s3:::%s", partition, cfg.State.Bucket)
	key := bucket + "/" + cfg.StateKey()
	return []Statement{
		{Sid: "StateObjects", Effect: "Allow", Action: actionsOf(stateObjectAPI), Resource: []string{key, key + ".lock"}},
		// Without s3:ListBucket, S3 answers a read of a missing object
		// with 403 AccessDenied instead of 404 NoSuchKey ("If you don't
		// have the s3:ListBucket permission, Amazon S3 returns an HTTP
		// status code 403", GetObject API reference), and a first run could
		// not tell "no state yet" from "denied".
		{Sid: "StateBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: bucket},
		// init-backend creates the bucket with ObjectOwnership, which S3
		// also authorizes as s3:PutBucketOwnershipControls (Implicit).
		{Sid: "StateBucketSetup", Effect: "Allow", Action: withAction(actionsOf(stateBucketAPI), "s3:PutBucketOwnershipControls"), Resource: bucket},
	}
}
