package cost

import "slices"

// Region is a commercial AWS region (partition aws) where every service of the
// stack has an endpoint.
type Region struct {
	Code  string
	Name  string
	OptIn bool // must be enabled for the account before use
}

// Regions are the commercial regions (partition aws) where every service the
// stack calls has an endpoint: ECS (Fargate), Elastic Load Balancing v2,
// ElastiCache, S3, CloudWatch, CloudWatch Logs, SNS and EC2 (VPC).
//
// Source: the endpoint tables of the SDK this binary is built with, the
// intersection of the "aws" partition's regions in
// github.com/aws/aws-sdk-go-v2/service/{ecs@v1.105.1,elasticloadbalancingv2@v1.64.0,
// elasticache@v1.65.0,s3@v1.114.10,cloudwatch@v1.76.0,cloudwatchlogs@v1.92.2,
// sns@v1.48.0,ec2@v1.347.0}/internal/endpoints/endpoints.go (34 regions, the
// same in all eight), with the names of
// github.com/aws/aws-sdk-go-v2@v1.48.0/internal/endpoints/awsrulesfn/partitions.json.
// partitions.json also names me-west-1 and sa-west-1, which none of the eight
// services lists yet: they are left out. The AWS list of services by region
// (https://aws.amazon.com/about-aws/global-infrastructure/regional-product-services/)
// is the human-readable form of the same data.
//
// OptIn marks the regions launched after 20 March 2019, which an account must
// enable first (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
//
// An endpoint is not a guarantee of every feature: Fargate on ARM (Graviton)
// reached most regions but its per-region availability is not in the SDK;
// the price table has an ARM price only where one was found.
var Regions = []Region{
	{"af-south-1", "Africa (Cape Town)", true},
	{"ap-east-1", "Asia Pacific (Hong Kong)", true},
	{"ap-east-2", "Asia Pacific (Taipei)", true},
	{"ap-northeast-1", "Asia Pacific (Tokyo)", false},
	{"ap-northeast-2", "Asia Pacific (Seoul)", false},
	{"ap-northeast-3", "Asia Pacific (Osaka)", false},
	{"ap-south-1", "Asia Pacific (Mumbai)", false},
	{"ap-south-2", "Asia Pacific (Hyderabad)", true},
	{"ap-southeast-1", "Asia Pacific (Singapore)", false},
	{"ap-southeast-2", "Asia Pacific (Sydney)", false},
	{"ap-southeast-3", "Asia Pacific (Jakarta)", true},
	{"ap-southeast-4", "Asia Pacific (Melbourne)", true},
	{"ap-southeast-5", "Asia Pacific (Malaysia)", true},
	{"ap-southeast-6", "Asia Pacific (New Zealand)", true},
	{"ap-southeast-7", "Asia Pacific (Thailand)", true},
	{"ca-central-1", "Canada (Central)", false},
	{"ca-west-1", "Canada West (Calgary)", true},
	{"eu-central-1", "Europe (Frankfurt)", false},
	{"eu-central-2", "Europe (Zurich)", true},
	{"eu-north-1", "Europe (Stockholm)", false},
	{"eu-south-1", "Europe (Milan)", true},
	{"eu-south-2", "Europe (Spain)", true},
	{"eu-west-1", "Europe (Ireland)", false},
	{"eu-west-2", "Europe (London)", false},
	{"eu-west-3", "Europe (Paris)", false},
	{"il-central-1", "Israel (Tel Aviv)", true},
	{"me-central-1", "Middle East (UAE)", true},
	{"me-south-1", "Middle East (Bahrain)", true},
	{"mx-central-1", "Mexico (Central)", true},
	{"sa-east-1", "South America (Sao Paulo)", false},
	{"us-east-1", "US East (N. Virginia)", false},
	{"us-east-2", "US East (Ohio)", false},
	{"us-west-1", "US West (N. California)", false},
	{"us-west-2", "US West (Oregon)", false},
}

// LookupRegion returns the commercial region code, if it is one the stack can run in.
func LookupRegion(code string) (Region, bool) {
	i := slices.IndexFunc(Regions, func(r Region) bool { return r.Code == code })
	if i < 0 {
		return Region{}, false
	}
	return Regions[i], true
}

// RegionList is the codes of Regions, opt-in ones marked.
func RegionList() []string {
	out := make([]string, len(Regions))
	for i, r := range Regions {
		out[i] = r.Code
		if r.OptIn {
			out[i] += " (opt-in)"
		}
	}
	return out
}
