package awssim

// What each simulated operation is authorized as: the IAM actions, the
// resource ARNs and the condition keys, from the Service Authorization
// Reference ("Actions, resources, and condition keys for <service>"; resource
// ARN formats from each page's "Resource types" table), plus the actions AWS
// checks on the caller's behalf without an operation of that name:
//
//   - tag-on-create: a create call that carries tags is also authorized as
//     the service's tagging action ("Tag on create", EC2 User Guide:
//     ec2:CreateTags with ec2:CreateAction; ELB elasticloadbalancing:AddTags
//     with elasticloadbalancing:CreateAction; ECS ecs:TagResource with
//     ecs:CreateAction; "You must have the s3:TagResource permission to
//     create a general purpose bucket with tags", S3 CreateBucket; logs,
//     SNS, CloudWatch, ElastiCache, IAM and Application Auto Scaling their
//     TagResource / AddTagsToResource / TagRole), with aws:RequestTag/K and
//     aws:TagKeys;
//   - iam:PassRole with iam:PassedToService where a role ARN is handed to a
//     service ("Grant a user permissions to pass a role to an AWS service",
//     IAM User Guide): ECS task definitions (ecs-tasks.amazonaws.com), flow
//     logs delivering to CloudWatch Logs (vpc-flow-logs.amazonaws.com);
//   - iam:CreateServiceLinkedRole with iam:AWSServiceName, on the first use
//     of a service whose service-linked role the account lacks ("Using
//     service-linked roles" of ECS (CreateCluster, CreateService), Elastic
//     Load Balancing (CreateLoadBalancer), ElastiCache (CreateReplicationGroup)
//     and Application Auto Scaling (RegisterScalableTarget));
//   - S3 CreateBucket with x-amz-object-ownership needs
//     s3:PutBucketOwnershipControls, with Object Lock
//     s3:PutBucketObjectLockConfiguration and s3:PutBucketVersioning, with an
//     ACL s3:PutBucketAcl (S3 CreateBucket API reference, "Permissions");
//     PutObject with tags needs s3:PutObjectTagging;
//   - flow logs to S3 need logs:CreateLogDelivery / logs:DeleteLogDelivery
//     (Amazon VPC User Guide, "Create a flow log that publishes to Amazon
//     S3", "IAM permissions").
//
// An operation not listed is authorized as prefix:Operation on "*", the
// common case for Describe/List calls ("If there is no value for this
// column, you must specify all resources ("*")"), so a service another change
// adds is authorized from its first call; list it here when its actions
// have resource types.

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
)

type authzCheck struct {
	action, resource string
	ctx              map[string][]string
	// slr, when set, names the service whose service-linked role this check
	// creates: it applies only while the account lacks that role.
	slr string
	// perItem: the service authorizes this action item by item and reports
	// refusals in its answer (S3 DeleteObjects); recorded, not enforced here.
	perItem bool
	// code, when set, is the error a refusal answers instead of the
	// service's usual one (Application Auto Scaling's permission validation).
	code string
}

type authzRule func(e *authzEnv, in any) []authzCheck

// authzEnv builds ARNs for one account and region.
type authzEnv struct {
	c       *Cloud
	part    string
	region  string
	account string
	service string
	op      string
	checks  []authzCheck
}

func (e *authzEnv) arn(svc, res string) string {
	return "arn:" + e.part + ":" + svc + ":" + e.region + ":" + e.account + ":" + res
}

// servicePrefix maps SDK service IDs to IAM action prefixes; an ID not listed
// is lower-cased without spaces ("Secrets Manager" -> secretsmanager).
var servicePrefix = map[string]string{
	"Elastic Load Balancing v2": "elasticloadbalancing",
	"CloudWatch Logs":           "logs",
	"Application Auto Scaling":  "application-autoscaling",
}

func prefixOf(service string) string {
	if p, ok := servicePrefix[service]; ok {
		return p
	}
	return strings.ToLower(strings.ReplaceAll(service, " ", ""))
}

// authzChecks computes the checks of one call; c.mu held.
func authzChecks(c *Cloud, service, op string, in any) []authzCheck {
	e := &authzEnv{c: c, part: partitionOf(c.Region), region: c.Region, account: c.Account, service: service, op: op}
	if service == "STS" && op == "GetCallerIdentity" {
		return nil // "No permissions are required to perform this operation" (STS API reference)
	}
	if rule := authzTable[service][op]; rule != nil {
		return rule(e, in)
	}
	return []authzCheck{{action: prefixOf(service) + ":" + op, resource: "*"}}
}

// ---- field access by name, so one rule fits many input shapes ----

func fieldOf(in any, name string) reflect.Value {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.FieldByName(name)
}

// str reads a string field (string, *string or a string enum).
func str(in any, name string) string {
	f := fieldOf(in, name)
	if !f.IsValid() {
		return ""
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	if f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// strs reads a []string field.
func strs(in any, name string) []string {
	f := fieldOf(in, name)
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return nil
	}
	var out []string
	for i := 0; i < f.Len(); i++ {
		x := f.Index(i)
		if x.Kind() == reflect.Pointer && !x.IsNil() {
			x = x.Elem()
		}
		if x.Kind() == reflect.String {
			out = append(out, x.String())
		}
	}
	return out
}

// tagsIn reads tags from a field that is a map[string]string or a slice of
// structs with Key and Value; for EC2's TagSpecifications, the Tags of each.
func tagsIn(v reflect.Value) map[string]string {
	out := map[string]string{}
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return out
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return out
	}
	switch v.Kind() {
	case reflect.Map:
		for _, k := range v.MapKeys() {
			out[k.String()] = v.MapIndex(k).String()
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			x := v.Index(i)
			if x.Kind() == reflect.Pointer {
				x = x.Elem()
			}
			if x.Kind() != reflect.Struct {
				continue
			}
			if ts := x.FieldByName("Tags"); ts.IsValid() { // TagSpecification
				for k, val := range tagsIn(ts) {
					out[k] = val
				}
				continue
			}
			k, val := str(x.Addr().Interface(), "Key"), str(x.Addr().Interface(), "Value")
			if k != "" {
				out[k] = val
			}
		}
	}
	return out
}

// tagCtx is the request context of tags: aws:RequestTag/K and aws:TagKeys
// ("Controlling access during AWS requests", IAM User Guide).
func tagCtx(tags map[string]string, extra ...string) map[string][]string {
	ctx := map[string][]string{}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = []string{v}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		ctx["aws:TagKeys"] = keys
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ctx[extra[i]] = []string{extra[i+1]}
	}
	return ctx
}

// ---- rule builders ----

func (e *authzEnv) add(action, resource string, ctx map[string][]string) {
	e.checks = append(e.checks, authzCheck{action: action, resource: resource, ctx: ctx})
}

// tagOnCreate adds the tagging action when in carries tags in field.
func (e *authzEnv) tagOnCreate(in any, field, action, resource, createKey string) {
	tags := tagsIn(fieldOf(in, field))
	if len(tags) == 0 {
		return
	}
	var extra []string
	if createKey != "" {
		extra = []string{createKey, e.op}
	}
	e.add(action, resource, tagCtx(tags, extra...))
}

func (e *authzEnv) passRole(roleARN, service string) {
	if roleARN == "" {
		return
	}
	e.add("iam:PassRole", roleARN, map[string][]string{"iam:PassedToService": {service}})
}

// serviceLinkedRoles: service -> role name ("Using service-linked roles" of
// each service).
var serviceLinkedRoles = map[string]string{
	"ecs.amazonaws.com":                         "AWSServiceRoleForECS",
	"elasticloadbalancing.amazonaws.com":        "AWSServiceRoleForElasticLoadBalancing",
	"elasticache.amazonaws.com":                 "AWSServiceRoleForElastiCache",
	"ecs.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_ECSService",
}

func (e *authzEnv) serviceLinked(service string) {
	e.checks = append(e.checks, authzCheck{action: "iam:CreateServiceLinkedRole",
		resource: "arn:" + e.part + ":iam::" + e.account + ":role/aws-service-role/" + service + "/" + serviceLinkedRoles[service],
		ctx:      map[string][]string{"iam:AWSServiceName": {service}}, slr: service})
}

// simple authorizes as one action on the resource res(e, in) returns.
func simple(action string, res func(e *authzEnv, in any) []string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		for _, r := range res(e, in) {
			e.add(action, r, nil)
		}
		return e.checks
	}
}

func star(*authzEnv, any) []string { return []string{"*"} }

// ---- per service ----

// ec2Create: the new resource (ID unknown yet: kind/*), the parents it is
// made in, and ec2:CreateTags with ec2:CreateAction for its tags.
func ec2Create(kind string, parents ...[2]string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		self := e.arn("ec2", kind+"/*")
		e.add("ec2:"+e.op, self, nil)
		for _, p := range parents {
			if id := str(in, p[1]); id != "" {
				e.add("ec2:"+e.op, e.arn("ec2", p[0]+"/"+id), nil)
			}
			for _, id := range strs(in, p[1]) {
				e.add("ec2:"+e.op, e.arn("ec2", p[0]+"/"+id), nil)
			}
		}
		e.tagOnCreate(in, "TagSpecifications", "ec2:CreateTags", self, "ec2:CreateAction")
		return e.checks
	}
}

func ec2On(pairs ...[2]string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		for _, p := range pairs {
			id := str(in, p[1])
			if id == "" {
				id = "*"
			}
			e.add("ec2:"+e.op, e.arn("ec2", p[0]+"/"+id), nil)
		}
		return e.checks
	}
}

func (e *authzEnv) flowLogToS3(id string) bool {
	f := e.c.ec2().flows[id]
	return f != nil && f.destType == "s3"
}

var ec2Rules = map[string]authzRule{
	"CreateVpc":                     ec2Create("vpc"),
	"ModifyVpcAttribute":            ec2On([2]string{"vpc", "VpcId"}),
	"DeleteVpc":                     ec2On([2]string{"vpc", "VpcId"}),
	"CreateSubnet":                  ec2Create("subnet", [2]string{"vpc", "VpcId"}),
	"ModifySubnetAttribute":         ec2On([2]string{"subnet", "SubnetId"}),
	"DeleteSubnet":                  ec2On([2]string{"subnet", "SubnetId"}),
	"CreateInternetGateway":         ec2Create("internet-gateway"),
	"AttachInternetGateway":         ec2On([2]string{"internet-gateway", "InternetGatewayId"}, [2]string{"vpc", "VpcId"}),
	"DetachInternetGateway":         ec2On([2]string{"internet-gateway", "InternetGatewayId"}, [2]string{"vpc", "VpcId"}),
	"DeleteInternetGateway":         ec2On([2]string{"internet-gateway", "InternetGatewayId"}),
	"CreateRouteTable":              ec2Create("route-table", [2]string{"vpc", "VpcId"}),
	"CreateRoute":                   ec2On([2]string{"route-table", "RouteTableId"}),
	"ReplaceRoute":                  ec2On([2]string{"route-table", "RouteTableId"}),
	"AssociateRouteTable":           ec2On([2]string{"route-table", "RouteTableId"}, [2]string{"subnet", "SubnetId"}),
	"DisassociateRouteTable":        ec2On([2]string{"route-table", "-"}), // by association ID: route-table/*
	"DeleteRouteTable":              ec2On([2]string{"route-table", "RouteTableId"}),
	"CreateSecurityGroup":           ec2Create("security-group", [2]string{"vpc", "VpcId"}),
	"AuthorizeSecurityGroupIngress": ec2On([2]string{"security-group", "GroupId"}),
	"AuthorizeSecurityGroupEgress":  ec2On([2]string{"security-group", "GroupId"}),
	"RevokeSecurityGroupIngress":    ec2On([2]string{"security-group", "GroupId"}),
	"RevokeSecurityGroupEgress":     ec2On([2]string{"security-group", "GroupId"}),
	"DeleteSecurityGroup":           ec2On([2]string{"security-group", "GroupId"}),
	"DeleteNetworkInterface":        ec2On([2]string{"network-interface", "NetworkInterfaceId"}),
	"CreateFlowLogs": func(e *authzEnv, in any) []authzCheck {
		ec2Create("vpc-flow-log", [2]string{"vpc", "ResourceIds"})(e, in)
		switch str(in, "LogDestinationType") {
		case "s3":
			e.add("logs:CreateLogDelivery", "*", nil)
		case "", "cloud-watch-logs":
			e.passRole(str(in, "DeliverLogsPermissionArn"), "vpc-flow-logs.amazonaws.com")
		}
		return e.checks
	},
	"DeleteFlowLogs": func(e *authzEnv, in any) []authzCheck {
		s3 := false
		for _, id := range strs(in, "FlowLogIds") {
			e.add("ec2:DeleteFlowLogs", e.arn("ec2", "vpc-flow-log/"+id), nil)
			s3 = s3 || e.flowLogToS3(id)
		}
		if s3 {
			e.add("logs:DeleteLogDelivery", "*", nil)
		}
		return e.checks
	},
}

// ELBv2 ARNs: loadbalancer/app/NAME/ID, targetgroup/NAME/ID,
// listener/app/LB/LBID/ID, listener-rule/app/LB/LBID/LID/ID.
func elbOn(field string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		for _, a := range append([]string{str(in, field)}, strs(in, field+"s")...) {
			if a != "" {
				e.add("elasticloadbalancing:"+e.op, a, nil)
			}
		}
		if len(e.checks) == 0 {
			e.add("elasticloadbalancing:"+e.op, "*", nil)
		}
		return e.checks
	}
}

func elbCreate(self func(e *authzEnv, in any) string, on string, slr bool) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		res := self(e, in)
		if on != "" {
			res = str(in, on)
		}
		e.add("elasticloadbalancing:"+e.op, res, nil)
		e.tagOnCreate(in, "Tags", "elasticloadbalancing:AddTags", self(e, in), "elasticloadbalancing:CreateAction")
		if slr {
			e.serviceLinked("elasticloadbalancing.amazonaws.com")
		}
		return e.checks
	}
}

var elbRules = map[string]authzRule{
	"CreateLoadBalancer": elbCreate(func(e *authzEnv, in any) string {
		typ := "app"
		if t := str(in, "Type"); t == "network" {
			typ = "net"
		}
		return e.arn("elasticloadbalancing", "loadbalancer/"+typ+"/"+str(in, "Name")+"/*")
	}, "", true),
	"CreateTargetGroup": elbCreate(func(e *authzEnv, in any) string {
		return e.arn("elasticloadbalancing", "targetgroup/"+str(in, "Name")+"/*")
	}, "", false),
	"CreateListener": elbCreate(func(e *authzEnv, in any) string {
		return strings.Replace(str(in, "LoadBalancerArn"), ":loadbalancer/", ":listener/", 1) + "/*"
	}, "LoadBalancerArn", false),
	"CreateRule": elbCreate(func(e *authzEnv, in any) string {
		return strings.Replace(str(in, "ListenerArn"), ":listener/", ":listener-rule/", 1) + "/*"
	}, "ListenerArn", false),
	"ModifyLoadBalancerAttributes": elbOn("LoadBalancerArn"),
	"DeleteLoadBalancer":           elbOn("LoadBalancerArn"),
	"SetSecurityGroups":            elbOn("LoadBalancerArn"),
	"SetSubnets":                   elbOn("LoadBalancerArn"),
	"ModifyTargetGroupAttributes":  elbOn("TargetGroupArn"),
	"ModifyTargetGroup":            elbOn("TargetGroupArn"),
	"DeleteTargetGroup":            elbOn("TargetGroupArn"),
	"ModifyListener":               elbOn("ListenerArn"),
	"AddListenerCertificates":      elbOn("ListenerArn"),
	"RemoveListenerCertificates":   elbOn("ListenerArn"),
	"DeleteListener":               elbOn("ListenerArn"),
	"ModifyRule":                   elbOn("RuleArn"),
	"DeleteRule":                   elbOn("RuleArn"),
	"SetRulePriorities":            elbOn("-"),
	"AddTags":                      elbTags,
	"RemoveTags":                   elbTags,
}

func elbTags(e *authzEnv, in any) []authzCheck {
	var ctx map[string][]string
	if e.op == "AddTags" {
		ctx = tagCtx(tagsIn(fieldOf(in, "Tags")))
	} else {
		ctx = map[string][]string{"aws:TagKeys": strs(in, "TagKeys")}
	}
	for _, a := range strs(in, "ResourceArns") {
		e.add("elasticloadbalancing:"+e.op, a, ctx)
	}
	return e.checks
}

// ECS ARNs: cluster/NAME, service/CLUSTER/NAME, task/CLUSTER/ID,
// task-definition/FAMILY:REV.
func (e *authzEnv) ecsCluster(v string) string {
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	if v == "" {
		v = "default"
	}
	return e.arn("ecs", "cluster/"+v)
}

func (e *authzEnv) ecsIn(cluster, kind, v string) string {
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	name := cluster[strings.LastIndex(cluster, "/")+1:]
	return e.arn("ecs", kind+"/"+name+"/"+v)
}

func ecsClusterRule(field string, slr bool) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		names := strs(in, field+"s")
		if v := str(in, field); v != "" || len(names) == 0 {
			names = append(names, v)
		}
		for _, n := range names {
			e.add("ecs:"+e.op, e.ecsCluster(n), nil)
		}
		if e.op == "CreateCluster" {
			e.tagOnCreate(in, "Tags", "ecs:TagResource", e.ecsCluster(str(in, "ClusterName")), "ecs:CreateAction")
		}
		if slr {
			e.serviceLinked("ecs.amazonaws.com")
		}
		return e.checks
	}
}

func ecsServiceRule(field string, create bool) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		cl := e.ecsCluster(str(in, "Cluster"))
		names := strs(in, field+"s")
		if v := str(in, field); v != "" {
			names = append(names, v)
		}
		ctx := map[string][]string{"ecs:cluster": {cl}}
		if td := str(in, "TaskDefinition"); td != "" {
			ctx["ecs:task-definition"] = []string{td}
		}
		for _, n := range names {
			e.add("ecs:"+e.op, e.ecsIn(cl, "service", n), ctx)
		}
		if create {
			e.tagOnCreate(in, "Tags", "ecs:TagResource", e.ecsIn(cl, "service", str(in, field)), "ecs:CreateAction")
			e.serviceLinked("ecs.amazonaws.com")
		}
		return e.checks
	}
}

var ecsRules = map[string]authzRule{
	"CreateCluster":         ecsClusterRule("ClusterName", true),
	"DescribeClusters":      ecsClusterRule("Cluster", false),
	"UpdateClusterSettings": ecsClusterRule("Cluster", false),
	"DeleteCluster":         ecsClusterRule("Cluster", false),
	"RegisterTaskDefinition": func(e *authzEnv, in any) []authzCheck {
		e.add("ecs:RegisterTaskDefinition", "*", nil)
		e.tagOnCreate(in, "Tags", "ecs:TagResource", e.arn("ecs", "task-definition/"+str(in, "Family")+":*"), "ecs:CreateAction")
		e.passRole(str(in, "TaskRoleArn"), "ecs-tasks.amazonaws.com")
		if x := str(in, "ExecutionRoleArn"); x != str(in, "TaskRoleArn") {
			e.passRole(x, "ecs-tasks.amazonaws.com")
		}
		return e.checks
	},
	"DeleteTaskDefinitions": func(e *authzEnv, in any) []authzCheck {
		for _, td := range strs(in, "TaskDefinitions") {
			if !strings.HasPrefix(td, "arn:") {
				td = e.arn("ecs", "task-definition/"+td)
			}
			e.add("ecs:DeleteTaskDefinitions", td, nil)
		}
		return e.checks
	},
	"CreateService":    ecsServiceRule("ServiceName", true),
	"DescribeServices": ecsServiceRule("Service", false),
	"UpdateService":    ecsServiceRule("Service", false),
	"DeleteService":    ecsServiceRule("Service", false),
	"ListServices": func(e *authzEnv, in any) []authzCheck {
		e.add("ecs:ListServices", "*", map[string][]string{"ecs:cluster": {e.ecsCluster(str(in, "Cluster"))}})
		return e.checks
	},
	"ListTasks": func(e *authzEnv, in any) []authzCheck {
		e.add("ecs:ListTasks", "*", map[string][]string{"ecs:cluster": {e.ecsCluster(str(in, "Cluster"))}})
		return e.checks
	},
	"DescribeTasks": func(e *authzEnv, in any) []authzCheck {
		cl := e.ecsCluster(str(in, "Cluster"))
		for _, t := range strs(in, "Tasks") {
			e.add("ecs:DescribeTasks", e.ecsIn(cl, "task", t), map[string][]string{"ecs:cluster": {cl}})
		}
		return e.checks
	},
	"TagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("ecs:TagResource", str(in, "ResourceArn"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
	"UntagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("ecs:UntagResource", str(in, "ResourceArn"), map[string][]string{"aws:TagKeys": strs(in, "TagKeys")})
		return e.checks
	},
}

// IAM: roles are arn:aws:iam::ACCOUNT:role/PATH/NAME (IAM is global: no
// region); the path of an existing role comes from the account.
func (e *authzEnv) roleARN(name, path string) string {
	if path == "" {
		path = "/"
		if r := e.c.iam().roles[strings.ToLower(name)]; r != nil {
			return e.c.iam().arn(r)
		}
	}
	return "arn:" + e.part + ":iam::" + e.account + ":role" + path + name
}

func authzIAMRole(e *authzEnv, in any) []authzCheck {
	var ctx map[string][]string
	switch e.op {
	case "AttachRolePolicy", "DetachRolePolicy":
		ctx = map[string][]string{"iam:PolicyARN": {str(in, "PolicyArn")}}
	case "TagRole":
		ctx = tagCtx(tagsIn(fieldOf(in, "Tags")))
	case "UntagRole":
		ctx = map[string][]string{"aws:TagKeys": strs(in, "TagKeys")}
	}
	role := e.roleARN(str(in, "RoleName"), "")
	e.add("iam:"+e.op, role, ctx)
	return e.checks
}

var iamRules = map[string]authzRule{
	"CreateRole": func(e *authzEnv, in any) []authzCheck {
		role := e.roleARN(str(in, "RoleName"), orSlash(str(in, "Path")))
		e.add("iam:CreateRole", role, tagCtx(tagsIn(fieldOf(in, "Tags"))))
		e.tagOnCreate(in, "Tags", "iam:TagRole", role, "")
		return e.checks
	},
	"GetRole": authzIAMRole, "UpdateAssumeRolePolicy": authzIAMRole, "DeleteRole": authzIAMRole, "ListRoleTags": authzIAMRole,
	"TagRole": authzIAMRole, "UntagRole": authzIAMRole, "PutRolePolicy": authzIAMRole, "GetRolePolicy": authzIAMRole,
	"DeleteRolePolicy": authzIAMRole, "ListRolePolicies": authzIAMRole, "AttachRolePolicy": authzIAMRole,
	"DetachRolePolicy": authzIAMRole, "ListAttachedRolePolicies": authzIAMRole, "UpdateRole": authzIAMRole,
	"ListRoles": simple("iam:ListRoles", star),
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// S3: buckets arn:aws:s3:::NAME, objects arn:aws:s3:::NAME/KEY; operation to
// action from "Required permissions for Amazon S3 API operations" (S3 User
// Guide) and each operation's "Permissions".
func (e *authzEnv) bucket(in any) string {
	return "arn:" + e.part + ":s3:::" + str(in, "Bucket")
}

func authzS3Bucket(action string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		e.add(action, e.bucket(in), nil)
		return e.checks
	}
}

// s3Object authorizes an object operation; with a VersionId, versioned is
// checked too. Deletes need s3:DeleteObject in any case ("To delete an
// object from a bucket, you must always have the s3:DeleteObject
// permission"; "To delete a specific version ... you must have the
// s3:DeleteObjectVersion permission", S3 DeleteObject(s) API reference,
// "Permissions"); a read of a version needs only s3:GetObjectVersion.
func s3Object(action, versioned string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		obj := e.bucket(in) + "/" + str(in, "Key")
		if versioned != "" && str(in, "VersionId") != "" {
			if action == "s3:DeleteObject" {
				e.add(action, obj, nil)
			}
			e.add(versioned, obj, nil)
			return e.checks
		}
		e.add(action, obj, nil)
		return e.checks
	}
}

var s3Rules = map[string]authzRule{
	"CreateBucket": func(e *authzEnv, in any) []authzCheck {
		b := e.bucket(in)
		e.add("s3:CreateBucket", b, nil)
		if cfg := fieldOf(in, "CreateBucketConfiguration"); cfg.IsValid() && !cfg.IsNil() {
			if tags := tagsIn(cfg.Elem().FieldByName("Tags")); len(tags) > 0 {
				e.add("s3:TagResource", b, tagCtx(tags))
			}
		}
		if str(in, "ObjectOwnership") != "" {
			e.add("s3:PutBucketOwnershipControls", b, nil)
		}
		if f := fieldOf(in, "ObjectLockEnabledForBucket"); f.IsValid() && !f.IsNil() && f.Elem().Bool() {
			e.add("s3:PutBucketObjectLockConfiguration", b, nil)
			e.add("s3:PutBucketVersioning", b, nil)
		}
		if str(in, "ACL") != "" || str(in, "GrantFullControl") != "" || str(in, "GrantRead") != "" ||
			str(in, "GrantReadACP") != "" || str(in, "GrantWrite") != "" || str(in, "GrantWriteACP") != "" {
			e.add("s3:PutBucketAcl", b, nil)
		}
		return e.checks
	},
	"HeadBucket":                      authzS3Bucket("s3:ListBucket"),
	"GetBucketLocation":               authzS3Bucket("s3:GetBucketLocation"),
	"DeleteBucket":                    authzS3Bucket("s3:DeleteBucket"),
	"ListBuckets":                     simple("s3:ListAllMyBuckets", star),
	"PutBucketTagging":                authzS3Bucket("s3:PutBucketTagging"),
	"GetBucketTagging":                authzS3Bucket("s3:GetBucketTagging"),
	"DeleteBucketTagging":             authzS3Bucket("s3:PutBucketTagging"),
	"PutBucketVersioning":             authzS3Bucket("s3:PutBucketVersioning"),
	"GetBucketVersioning":             authzS3Bucket("s3:GetBucketVersioning"),
	"PutBucketLifecycleConfiguration": authzS3Bucket("s3:PutLifecycleConfiguration"),
	"GetBucketLifecycleConfiguration": authzS3Bucket("s3:GetLifecycleConfiguration"),
	"DeleteBucketLifecycle":           authzS3Bucket("s3:PutLifecycleConfiguration"),
	"PutBucketPolicy":                 authzS3Bucket("s3:PutBucketPolicy"),
	"GetBucketPolicy":                 authzS3Bucket("s3:GetBucketPolicy"),
	"DeleteBucketPolicy":              authzS3Bucket("s3:DeleteBucketPolicy"),
	"PutBucketEncryption":             authzS3Bucket("s3:PutEncryptionConfiguration"),
	"GetBucketEncryption":             authzS3Bucket("s3:GetEncryptionConfiguration"),
	"DeleteBucketEncryption":          authzS3Bucket("s3:PutEncryptionConfiguration"),
	"PutPublicAccessBlock":            authzS3Bucket("s3:PutBucketPublicAccessBlock"),
	"GetPublicAccessBlock":            authzS3Bucket("s3:GetBucketPublicAccessBlock"),
	"DeletePublicAccessBlock":         authzS3Bucket("s3:PutBucketPublicAccessBlock"),
	"PutBucketOwnershipControls":      authzS3Bucket("s3:PutBucketOwnershipControls"),
	"GetBucketOwnershipControls":      authzS3Bucket("s3:GetBucketOwnershipControls"),
	"DeleteBucketOwnershipControls":   authzS3Bucket("s3:PutBucketOwnershipControls"),
	"PutBucketLogging":                authzS3Bucket("s3:PutBucketLogging"),
	"GetBucketLogging":                authzS3Bucket("s3:GetBucketLogging"),
	"PutObject": func(e *authzEnv, in any) []authzCheck {
		obj := e.bucket(in) + "/" + str(in, "Key")
		e.add("s3:PutObject", obj, nil)
		if str(in, "Tagging") != "" {
			e.add("s3:PutObjectTagging", obj, nil)
		}
		return e.checks
	},
	"GetObject":    s3Object("s3:GetObject", "s3:GetObjectVersion"),
	"HeadObject":   s3Object("s3:GetObject", "s3:GetObjectVersion"),
	"DeleteObject": s3Object("s3:DeleteObject", "s3:DeleteObjectVersion"),
	// DeleteObjects is authorized key by key: a denied key comes back in
	// Errors with AccessDenied while the others are deleted (S3 DeleteObjects
	// API reference), so the call itself needs no check here (s3.go).
	"DeleteObjects": func(e *authzEnv, in any) []authzCheck {
		seen := map[string]bool{}
		if d := fieldOf(in, "Delete"); d.IsValid() && !d.IsNil() {
			objs := d.Elem().FieldByName("Objects")
			for i := 0; i < objs.Len(); i++ {
				o := objs.Index(i).Addr().Interface()
				as := []string{"s3:DeleteObject"}
				if str(o, "VersionId") != "" {
					as = append(as, "s3:DeleteObjectVersion")
				}
				for _, a := range as {
					if !seen[a] {
						seen[a] = true
						e.checks = append(e.checks, authzCheck{action: a, resource: e.bucket(in) + "/" + str(o, "Key"), perItem: true})
					}
				}
			}
		}
		return e.checks
	},
	"ListObjectsV2": func(e *authzEnv, in any) []authzCheck {
		e.add("s3:ListBucket", e.bucket(in), s3ListCtx(in))
		return e.checks
	},
	"ListObjectVersions": func(e *authzEnv, in any) []authzCheck {
		e.add("s3:ListBucketVersions", e.bucket(in), s3ListCtx(in))
		return e.checks
	},
}

// s3ListCtx: s3:prefix, s3:delimiter, s3:max-keys ("Amazon S3 condition
// key examples").
func s3ListCtx(in any) map[string][]string {
	ctx := map[string][]string{}
	if p := str(in, "Prefix"); p != "" {
		ctx["s3:prefix"] = []string{p}
	}
	if d := str(in, "Delimiter"); d != "" {
		ctx["s3:delimiter"] = []string{d}
	}
	if f := fieldOf(in, "MaxKeys"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().CanInt() {
		ctx["s3:max-keys"] = []string{strconv.FormatInt(f.Elem().Int(), 10)}
	}
	return ctx
}

// CloudWatch Logs: log-group:NAME (Service Authorization Reference, "log-group").
func (e *authzEnv) logGroup(in any) string {
	if id := str(in, "LogGroupIdentifier"); strings.HasPrefix(id, "arn:") {
		return strings.TrimSuffix(id, ":*")
	} else if id != "" {
		return e.arn("logs", "log-group:"+id)
	}
	return e.arn("logs", "log-group:"+str(in, "LogGroupName"))
}

func logsGroup(e *authzEnv, in any) []authzCheck {
	e.add("logs:"+e.op, e.logGroup(in), nil)
	return e.checks
}

var logsRules = map[string]authzRule{
	"CreateLogGroup": func(e *authzEnv, in any) []authzCheck {
		g := e.logGroup(in)
		e.add("logs:CreateLogGroup", g, tagCtx(tagsIn(fieldOf(in, "Tags"))))
		e.tagOnCreate(in, "Tags", "logs:TagResource", g, "")
		return e.checks
	},
	"PutRetentionPolicy":    logsGroup,
	"DeleteRetentionPolicy": logsGroup,
	"DeleteLogGroup":        logsGroup,
	"FilterLogEvents":       logsGroup,
	"DescribeLogStreams":    logsGroup,
	"ListTagsForResource": func(e *authzEnv, in any) []authzCheck {
		e.add("logs:ListTagsForResource", strings.TrimSuffix(str(in, "ResourceArn"), ":*"), nil)
		return e.checks
	},
	"TagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("logs:TagResource", strings.TrimSuffix(str(in, "ResourceArn"), ":*"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
}

// CloudWatch: alarm:NAME, dashboard/NAME (dashboards are global: no region).
var cloudwatchRules = map[string]authzRule{
	"PutMetricAlarm": func(e *authzEnv, in any) []authzCheck {
		a := e.arn("cloudwatch", "alarm:"+str(in, "AlarmName"))
		e.add("cloudwatch:PutMetricAlarm", a, tagCtx(tagsIn(fieldOf(in, "Tags"))))
		e.tagOnCreate(in, "Tags", "cloudwatch:TagResource", a, "")
		return e.checks
	},
	"DeleteAlarms": func(e *authzEnv, in any) []authzCheck {
		for _, n := range strs(in, "AlarmNames") {
			e.add("cloudwatch:DeleteAlarms", e.arn("cloudwatch", "alarm:"+n), nil)
		}
		return e.checks
	},
	"TagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("cloudwatch:TagResource", str(in, "ResourceARN"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
	"ListTagsForResource": func(e *authzEnv, in any) []authzCheck {
		e.add("cloudwatch:ListTagsForResource", str(in, "ResourceARN"), nil)
		return e.checks
	},
	"PutDashboard": cwDashboard, "GetDashboard": cwDashboard,
	"DeleteDashboards": func(e *authzEnv, in any) []authzCheck {
		for _, n := range strs(in, "DashboardNames") {
			e.add("cloudwatch:DeleteDashboards", "arn:"+e.part+":cloudwatch::"+e.account+":dashboard/"+n, nil)
		}
		return e.checks
	},
}

func cwDashboard(e *authzEnv, in any) []authzCheck {
	e.add("cloudwatch:"+e.op, "arn:"+e.part+":cloudwatch::"+e.account+":dashboard/"+str(in, "DashboardName"), nil)
	return e.checks
}

// ElastiCache: subnetgroup:NAME, replicationgroup:ID, cluster:ID.
func ecOn(kind, field string, create bool) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		res := "*"
		if v := str(in, field); v != "" {
			res = e.arn("elasticache", kind+":"+v)
		}
		e.add("elasticache:"+e.op, res, nil)
		if create {
			e.tagOnCreate(in, "Tags", "elasticache:AddTagsToResource", res, "")
			if kind == "replicationgroup" {
				e.serviceLinked("elasticache.amazonaws.com")
			}
		}
		return e.checks
	}
}

var elasticacheRules = map[string]authzRule{
	"CreateCacheSubnetGroup":    ecOn("subnetgroup", "CacheSubnetGroupName", true),
	"ModifyCacheSubnetGroup":    ecOn("subnetgroup", "CacheSubnetGroupName", false),
	"DeleteCacheSubnetGroup":    ecOn("subnetgroup", "CacheSubnetGroupName", false),
	"DescribeCacheSubnetGroups": ecOn("subnetgroup", "CacheSubnetGroupName", false),
	"CreateReplicationGroup":    ecOn("replicationgroup", "ReplicationGroupId", true),
	"ModifyReplicationGroup":    ecOn("replicationgroup", "ReplicationGroupId", false),
	"DeleteReplicationGroup":    ecOn("replicationgroup", "ReplicationGroupId", false),
	"DescribeReplicationGroups": ecOn("replicationgroup", "ReplicationGroupId", false),
	"IncreaseReplicaCount":      ecOn("replicationgroup", "ReplicationGroupId", false),
	"DecreaseReplicaCount":      ecOn("replicationgroup", "ReplicationGroupId", false),
	"DescribeCacheClusters":     ecOn("cluster", "CacheClusterId", false),
	"ListTagsForResource": func(e *authzEnv, in any) []authzCheck {
		e.add("elasticache:ListTagsForResource", str(in, "ResourceName"), nil)
		return e.checks
	},
	"AddTagsToResource": func(e *authzEnv, in any) []authzCheck {
		e.add("elasticache:AddTagsToResource", str(in, "ResourceName"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
}

// SNS: arn:aws:sns:REGION:ACCOUNT:TOPIC.
func authzSNSTopic(field string) authzRule {
	return func(e *authzEnv, in any) []authzCheck {
		t := str(in, field)
		if field == "SubscriptionArn" {
			if i := strings.LastIndex(t, ":"); i > 0 {
				t = t[:i]
			}
		}
		e.add("sns:"+e.op, t, nil)
		return e.checks
	}
}

var snsRules = map[string]authzRule{
	"CreateTopic": func(e *authzEnv, in any) []authzCheck {
		t := e.arn("sns", str(in, "Name"))
		e.add("sns:CreateTopic", t, tagCtx(tagsIn(fieldOf(in, "Tags"))))
		e.tagOnCreate(in, "Tags", "sns:TagResource", t, "")
		return e.checks
	},
	"GetTopicAttributes":       authzSNSTopic("TopicArn"),
	"SetTopicAttributes":       authzSNSTopic("TopicArn"),
	"DeleteTopic":              authzSNSTopic("TopicArn"),
	"Subscribe":                authzSNSTopic("TopicArn"),
	"ListSubscriptionsByTopic": authzSNSTopic("TopicArn"),
	"Unsubscribe":              authzSNSTopic("SubscriptionArn"),
	"ListTagsForResource":      authzSNSTopic("ResourceArn"),
	"TagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("sns:TagResource", str(in, "ResourceArn"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
}

// Application Auto Scaling: scalable-target/ID, unknown before it exists.
//
// It also validates that the caller may act on the target and on CloudWatch
// before proceeding ("Permissions validation for Application Auto Scaling
// API calls on target resources": a missing permission fails the request
// with a ValidationException listing it): for an ECS service,
// ecs:DescribeServices and ecs:UpdateService on RegisterScalableTarget, and
// the CloudWatch alarm actions when target tracking policies make or delete
// their alarms ("IAM permissions required for Amazon ECS service auto
// scaling", Amazon ECS Developer Guide).
func (e *authzEnv) validated(action, resource string) {
	e.checks = append(e.checks, authzCheck{action: action, resource: resource, code: "ValidationException"})
}

func (e *authzEnv) ecsTarget(in any) string {
	// ResourceId "service/CLUSTER/NAME" is the service's ARN suffix.
	return e.arn("ecs", str(in, "ResourceId"))
}

var autoscalingRules = map[string]authzRule{
	"RegisterScalableTarget": func(e *authzEnv, in any) []authzCheck {
		e.add("application-autoscaling:RegisterScalableTarget", "*", tagCtx(tagsIn(fieldOf(in, "Tags"))))
		e.tagOnCreate(in, "Tags", "application-autoscaling:TagResource", "*", "")
		if str(in, "ServiceNamespace") == "ecs" {
			e.validated("ecs:DescribeServices", e.ecsTarget(in))
			e.validated("ecs:UpdateService", e.ecsTarget(in))
			e.serviceLinked("ecs.application-autoscaling.amazonaws.com")
		}
		return e.checks
	},
	"PutScalingPolicy": func(e *authzEnv, in any) []authzCheck {
		e.add("application-autoscaling:PutScalingPolicy", "*", nil)
		if str(in, "PolicyType") == "TargetTrackingScaling" {
			e.validated("cloudwatch:DescribeAlarms", "*")
			e.validated("cloudwatch:PutMetricAlarm", e.arn("cloudwatch", "alarm:TargetTracking-"+str(in, "ResourceId")+"-*"))
		}
		return e.checks
	},
	"DeleteScalingPolicy": func(e *authzEnv, in any) []authzCheck {
		e.add("application-autoscaling:DeleteScalingPolicy", "*", nil)
		e.validated("cloudwatch:DescribeAlarms", "*")
		e.validated("cloudwatch:DeleteAlarms", e.arn("cloudwatch", "alarm:TargetTracking-"+str(in, "ResourceId")+"-*"))
		return e.checks
	},
	"TagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("application-autoscaling:TagResource", str(in, "ResourceARN"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
	"UntagResource": func(e *authzEnv, in any) []authzCheck {
		e.add("application-autoscaling:UntagResource", str(in, "ResourceARN"), map[string][]string{"aws:TagKeys": strs(in, "TagKeys")})
		return e.checks
	},
	"ListTagsForResource": func(e *authzEnv, in any) []authzCheck {
		e.add("application-autoscaling:ListTagsForResource", str(in, "ResourceARN"), nil)
		return e.checks
	},
}

// KMS: key/ID; an alias is authorized on the key it names (KMS Developer
// Guide, "Using aliases to control access": DescribeKey on an alias checks
// the key policy and IAM permissions of the key).
var kmsRules = map[string]authzRule{
	"DescribeKey": func(e *authzEnv, in any) []authzCheck {
		k := str(in, "KeyId")
		switch {
		case strings.HasPrefix(k, "arn:") && strings.Contains(k, ":key/"):
		case strings.HasPrefix(k, "arn:") || strings.HasPrefix(k, "alias/"):
			k = e.arn("kms", "key/*")
		default:
			k = e.arn("kms", "key/"+k)
		}
		e.add("kms:DescribeKey", k, nil)
		return e.checks
	},
}

// Secrets Manager: every action but ListSecrets (and GetRandomPassword)
// takes the secret's ARN, arn:...:secret:NAME-xxxxxx with a six-character
// suffix AWS adds (Service Authorization Reference, AWS Secrets Manager,
// resource type Secret); CreateSecret with Tags also needs
// secretsmanager:TagResource ("To add tags to the secret, you must also have
// secretsmanager:TagResource", CreateSecret API reference). A secret that
// does not exist (yet) is authorized on NAME-?????? so a policy scoped to
// NAME* or NAME-?????? decides, as for the ARN AWS will give it.
func (e *authzEnv) secretARN(id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	if sm, ok := e.c.services["Secrets Manager"].(*smSim); ok {
		if sec := sm.lookup(id); sec != nil {
			return sec.arn
		}
	}
	return e.arn("secretsmanager", "secret:"+id+"-??????")
}

var secretsRules = map[string]authzRule{
	"CreateSecret": func(e *authzEnv, in any) []authzCheck {
		res := e.secretARN(str(in, "Name"))
		e.add("secretsmanager:CreateSecret", res, nil)
		e.tagOnCreate(in, "Tags", "secretsmanager:TagResource", res, "")
		return e.checks
	},
}

func init() {
	for _, op := range []string{"DescribeCertificate", "DeleteCertificate", "ListTagsForCertificate"} {
		action := "acm:" + op
		acmRules[op] = func(e *authzEnv, in any) []authzCheck {
			e.add(action, str(in, "CertificateArn"), nil)
			return e.checks
		}
	}
	for _, op := range []string{"DescribeSecret", "GetSecretValue", "PutSecretValue", "DeleteSecret", "TagResource"} {
		action := "secretsmanager:" + op
		secretsRules[op] = func(e *authzEnv, in any) []authzCheck {
			e.add(action, e.secretARN(str(in, "SecretId")), nil)
			if action == "secretsmanager:GetSecretValue" {
				if sm, ok := e.c.services["Secrets Manager"].(*smSim); ok {
					if sec := sm.lookup(str(in, "SecretId")); sec != nil {
						e.decryptVia("secretsmanager", sec.kmsKey, "alias/aws/secretsmanager")
					}
				}
			}
			return e.checks
		}
	}
	// SSM parameters: arn:...:parameter/NAME without the leading slash
	// (Service Authorization Reference, AWS Systems Manager, resource type
	// parameter); GetParameter and DeleteParameter take a name or an ARN.
	for _, op := range []string{"GetParameter", "DeleteParameter", "PutParameter"} {
		action := "ssm:" + op
		ssmRules[op] = func(e *authzEnv, in any) []authzCheck {
			name := str(in, "Name")
			if !strings.HasPrefix(name, "arn:") {
				name = e.arn("ssm", "parameter/"+strings.TrimPrefix(name, "/"))
			}
			e.add(action, name, nil)
			if action == "ssm:GetParameter" && boolField(in, "WithDecryption") {
				if p := e.c.services["SSM"].(*ssmSim).byName(str(in, "Name")); p != nil && p.typ == "SecureString" {
					e.decryptVia("ssm", p.keyID, "alias/aws/ssm")
				}
			}
			return e.checks
		}
	}
}

// decryptVia adds the kms:Decrypt a read of a value encrypted with a
// customer managed key needs from the caller: Secrets Manager and Parameter
// Store decrypt with the caller's permissions ("To retrieve a secret that
// is encrypted with a customer managed key, you need kms:Decrypt permission
// for the key", Secrets Manager User Guide, "Secret encryption and
// decryption"; "users who retrieve a SecureString parameter ... need
// kms:Decrypt for the KMS key", Parameter Store, "How Parameter Store uses
// AWS KMS"). The AWS managed key of the service (managed) lets every
// principal of the account that may use the service decrypt through it: no
// check. The request context carries kms:ViaService and kms:CallerAccount.
func (e *authzEnv) decryptVia(service, key, managed string) {
	if key == "" || key == managed || strings.HasSuffix(key, ":"+managed) {
		return
	}
	ks := e.c.services["KMS"].(*kmsSim)
	id, err := ks.resolve(key)
	if err != nil {
		return // an unknown key: the service's own answer says so
	}
	e.add("kms:Decrypt", ks.keyARN(id), map[string][]string{
		"kms:ViaService":    {service + "." + e.region + ".amazonaws.com"},
		"kms:CallerAccount": {e.account},
	})
}

// boolField reads a *bool or bool field of an SDK input.
func boolField(in any, name string) bool {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	f := v.FieldByName(name)
	switch {
	case !f.IsValid():
		return false
	case f.Kind() == reflect.Pointer:
		return !f.IsNil() && f.Elem().Kind() == reflect.Bool && f.Elem().Bool()
	case f.Kind() == reflect.Bool:
		return f.Bool()
	}
	return false
}

var ssmRules = map[string]authzRule{}

// ACM: certificates are arn:aws:acm:REGION:ACCOUNT:certificate/ID (Service
// Authorization Reference, AWS Certificate Manager, resource type
// certificate). RequestCertificate has no resource type ("*"), with
// acm:ValidationMethod, acm:DomainNames and acm:KeyAlgorithm ("Use condition
// keys with ACM", ACM User Guide) and, with Tags, acm:AddTagsToCertificate
// with aws:RequestTag/aws:TagKeys (tag on create: "To add tags ... you must
// have permission for acm:AddTagsToCertificate", RequestCertificate
// reference, Tags). ListCertificates is on "*".
var acmRules = map[string]authzRule{
	"RequestCertificate": func(e *authzEnv, in any) []authzCheck {
		names := append([]string{strings.ToLower(str(in, "DomainName"))}, strs(in, "SubjectAlternativeNames")...)
		method := str(in, "ValidationMethod")
		if method == "" {
			method = "EMAIL" // RequestCertificate ValidationMethod: EMAIL unless DNS is given
		}
		key := str(in, "KeyAlgorithm")
		if key == "" {
			key = "RSA_2048"
		}
		ctx := tagCtx(tagsIn(fieldOf(in, "Tags")), "acm:ValidationMethod", method, "acm:KeyAlgorithm", key)
		ctx["acm:DomainNames"] = names
		e.add("acm:RequestCertificate", "*", ctx)
		e.tagOnCreate(in, "Tags", "acm:AddTagsToCertificate", e.arn("acm", "certificate/*"), "")
		return e.checks
	},
	"AddTagsToCertificate": func(e *authzEnv, in any) []authzCheck {
		e.add("acm:AddTagsToCertificate", str(in, "CertificateArn"), tagCtx(tagsIn(fieldOf(in, "Tags"))))
		return e.checks
	},
	"ListCertificates": simple("acm:ListCertificates", star),
}

// Route 53 ARNs carry no region or account: arn:aws:route53:::hostedzone/ID,
// arn:aws:route53:::change/ID (Service Authorization Reference, Amazon Route
// 53, resource types hostedzone and change). ChangeResourceRecordSets
// carries route53:ChangeResourceRecordSetsNormalizedRecordNames (lower-case,
// no trailing dot, other characters than a-z 0-9 - _ . as \OOO octal),
// route53:ChangeResourceRecordSetsRecordTypes and
// route53:ChangeResourceRecordSetsActions, one value per change ("Using IAM
// policy conditions for fine-grained access control", Route 53 Developer
// Guide, "Normalizing Route 53 condition key values"). ListHostedZonesByName
// is on "*".
func (e *authzEnv) r53(kind, id string) string {
	id = strings.TrimPrefix(strings.TrimPrefix(id, "/"+kind+"/"), kind+"/")
	return "arn:" + e.part + ":route53:::" + kind + "/" + id
}

func authzR53Zone(e *authzEnv, in any) []authzCheck {
	field := "HostedZoneId"
	if e.op == "GetHostedZone" {
		field = "Id"
	}
	e.add("route53:"+e.op, e.r53("hostedzone", str(in, field)), nil)
	return e.checks
}

// normalizedRecordName is a record name as the condition key has it.
func normalizedRecordName(n string) string {
	n = strings.TrimSuffix(strings.ToLower(n), ".")
	var b strings.Builder
	for _, r := range []byte(n) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteByte(r)
		default:
			b.WriteString("\\" + strconv.FormatInt(int64(r)+01000, 8)[1:])
		}
	}
	return b.String()
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

var route53Rules = map[string]authzRule{
	"ChangeResourceRecordSets": func(e *authzEnv, in any) []authzCheck {
		var names, types, actions []string
		if b := fieldOf(in, "ChangeBatch"); b.IsValid() && !b.IsNil() {
			chs := b.Elem().FieldByName("Changes")
			for i := 0; i < chs.Len(); i++ {
				ch := chs.Index(i).Addr().Interface()
				actions = append(actions, str(ch, "Action"))
				if set := fieldOf(ch, "ResourceRecordSet"); set.IsValid() && !set.IsNil() {
					names = append(names, normalizedRecordName(str(set.Interface(), "Name")))
					types = append(types, str(set.Interface(), "Type"))
				}
			}
		}
		e.add("route53:ChangeResourceRecordSets", e.r53("hostedzone", str(in, "HostedZoneId")), map[string][]string{
			"route53:ChangeResourceRecordSetsNormalizedRecordNames": uniq(names),
			"route53:ChangeResourceRecordSetsRecordTypes":           uniq(types),
			"route53:ChangeResourceRecordSetsActions":               uniq(actions),
		})
		return e.checks
	},
	"GetHostedZone":          authzR53Zone,
	"ListResourceRecordSets": authzR53Zone,
	"GetChange": func(e *authzEnv, in any) []authzCheck {
		e.add("route53:GetChange", e.r53("change", str(in, "Id")), nil)
		return e.checks
	},
	"ListHostedZonesByName": simple("route53:ListHostedZonesByName", star),
}

var authzTable = map[string]map[string]authzRule{
	"Secrets Manager":           secretsRules,
	"SSM":                       ssmRules,
	"EC2":                       ec2Rules,
	"Elastic Load Balancing v2": elbRules,
	"ECS":                       ecsRules,
	"IAM":                       iamRules,
	"S3":                        s3Rules,
	"CloudWatch Logs":           logsRules,
	"CloudWatch":                cloudwatchRules,
	"ElastiCache":               elasticacheRules,
	"SNS":                       snsRules,
	"Application Auto Scaling":  autoscalingRules,
	"KMS":                       kmsRules,
	"ACM":                       acmRules,
	"Route 53":                  route53Rules,
}
