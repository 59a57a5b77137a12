package awssim

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// VPC flow logs (EC2 API reference: CreateFlowLogs, DescribeFlowLogs,
// DeleteFlowLogs). Per-resource failures of CreateFlowLogs and per-ID
// failures of DeleteFlowLogs come back in the answer's Unsuccessful list, not
// as an error of the request: FlowLogAlreadyExists ("A flow log with the
// specified configuration already exists", EC2 API reference, "Error codes")
// when the resource already has a flow log of the same traffic type to the
// same destination, InvalidFlowLogId.NotFound for an unknown ID.

// flowLogDefaultFormat is AWS's default record format (VPC user guide,
// "Flow log records", default format).
const flowLogDefaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

type flowLog struct {
	id, resource, traffic string
	destType, dest        string
	format                string
	maxAgg                int32
	created               time.Time
	tags                  map[string]string
}

func (s *ec2Sim) flowLogOut(f *flowLog) t.FlowLog {
	return t.FlowLog{FlowLogId: aws.String(f.id), ResourceId: aws.String(f.resource), TrafficType: t.TrafficType(f.traffic),
		LogDestinationType: t.LogDestinationType(f.destType), LogDestination: aws.String(f.dest), LogFormat: aws.String(f.format),
		MaxAggregationInterval: aws.Int32(f.maxAgg), CreationTime: aws.Time(f.created), FlowLogStatus: aws.String("ACTIVE"),
		DeliverLogsStatus: aws.String("SUCCESS"), Tags: ec2Tags(f.tags),
		DestinationOptions: &t.DestinationOptionsResponse{FileFormat: t.DestinationFileFormatPlainText,
			HiveCompatiblePartitions: aws.Bool(false), PerHourPartition: aws.Bool(false)}}
}

// resourceExists tells whether a flow log's resource exists (c.mu held).
func (s *ec2Sim) flowResource(rt t.FlowLogsResourceType, id string) (bool, string) {
	switch rt {
	case t.FlowLogsResourceTypeVpc:
		_, ok := s.vpcs[id]
		return ok, "InvalidVpcID.NotFound"
	case t.FlowLogsResourceTypeSubnet:
		_, ok := s.subnets[id]
		return ok, "InvalidSubnetID.NotFound"
	case t.FlowLogsResourceTypeNetworkInterface:
		_, ok := s.enis[id]
		return ok, "InvalidNetworkInterfaceID.NotFound"
	}
	return false, "InvalidParameter"
}

func (s *ec2Sim) CreateFlowLogs(_ context.Context, in *ec2.CreateFlowLogsInput) (*ec2.CreateFlowLogsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.ResourceIds) == 0 {
		return nil, apiError("MissingParameter", "The request must contain the parameter ResourceId")
	}
	switch in.ResourceType {
	case t.FlowLogsResourceTypeVpc, t.FlowLogsResourceTypeSubnet, t.FlowLogsResourceTypeNetworkInterface:
	default:
		return nil, apiError("InvalidParameterValue", "Invalid value '%s' for ResourceType", in.ResourceType)
	}
	switch in.TrafficType {
	case t.TrafficTypeAccept, t.TrafficTypeReject, t.TrafficTypeAll:
	default:
		// TrafficType is required for VPC, subnet and ENI flow logs
		// (CreateFlowLogs API reference: only transit gateways omit it).
		return nil, apiError("InvalidParameter", "TrafficType must be one of ACCEPT, REJECT, ALL")
	}
	destType := string(in.LogDestinationType)
	if destType == "" {
		destType = string(t.LogDestinationTypeCloudWatchLogs)
	}
	dest := aws.ToString(in.LogDestination)
	switch t.LogDestinationType(destType) {
	case t.LogDestinationTypeS3:
		// "The value for LogDestination is the ARN of an S3 bucket, or of a
		// folder in it" (CreateFlowLogs API reference); no role is needed.
		if !strings.HasPrefix(dest, "arn:"+partitionOf(s.c.Region)+":s3:::") || len(dest) <= len("arn:aws:s3:::") {
			return nil, apiError("InvalidParameter", "LogDestination: %q is not a valid S3 ARN", dest)
		}
		if in.DeliverLogsPermissionArn != nil {
			return nil, apiError("InvalidParameter", "DeliverLogsPermissionArn is not applicable for s3 delivery")
		}
	case t.LogDestinationTypeCloudWatchLogs:
		if in.DeliverLogsPermissionArn == nil {
			return nil, apiError("InvalidParameter", "DeliverLogsPermissionArn is required for cloud-watch-logs delivery")
		}
		if dest == "" {
			dest = aws.ToString(in.LogGroupName)
		}
	default:
		return nil, apiError("InvalidParameter", "LogDestinationType %s is not supported here", destType)
	}
	maxAgg := int32(600)
	if in.MaxAggregationInterval != nil {
		if *in.MaxAggregationInterval != 60 && *in.MaxAggregationInterval != 600 {
			return nil, apiError("InvalidParameter", "MaxAggregationInterval must be 60 or 600")
		}
		maxAgg = *in.MaxAggregationInterval
	}
	format := aws.ToString(in.LogFormat)
	if format == "" {
		format = flowLogDefaultFormat
	}
	out := &ec2.CreateFlowLogsOutput{ClientToken: in.ClientToken}
	for _, rid := range in.ResourceIds {
		fail := func(code, msg string) {
			out.Unsuccessful = append(out.Unsuccessful, t.UnsuccessfulItem{ResourceId: aws.String(rid),
				Error: &t.UnsuccessfulItemError{Code: aws.String(code), Message: aws.String(msg)}})
		}
		if ok, code := s.flowResource(in.ResourceType, rid); !ok {
			fail(code, "The resource '"+rid+"' does not exist")
			continue
		}
		dup := false
		for _, f := range s.flows {
			if f.resource == rid && f.dest == dest && f.destType == destType && f.traffic == string(in.TrafficType) {
				dup = true
			}
		}
		if dup {
			fail("FlowLogAlreadyExists", "Error. There is an existing Flow Log with the same configuration and log destination.")
			continue
		}
		f := &flowLog{id: s.c.newID("fl"), resource: rid, traffic: string(in.TrafficType), destType: destType, dest: dest,
			format: format, maxAgg: maxAgg, created: s.c.now().UTC(), tags: ec2TagsFromSpecs(in.TagSpecifications, t.ResourceTypeVpcFlowLog)}
		s.flows[f.id] = f
		s.c.created(f.id)
		out.FlowLogIds = append(out.FlowLogIds, f.id)
	}
	return out, nil
}

func (s *ec2Sim) DescribeFlowLogs(_ context.Context, in *ec2.DescribeFlowLogsInput) (*ec2.DescribeFlowLogsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.FlowLog
	for _, id := range sortedKeys(s.flows) {
		f := s.flows[id]
		if len(in.FlowLogIds) > 0 && !contains(in.FlowLogIds, id) {
			continue
		}
		if len(in.FlowLogIds) == 0 && s.c.isFresh(id) && s.c.hidden(id) {
			continue
		}
		if matchFilters(in.Filter, f.tags, func(n string) []string {
			switch n {
			case "flow-log-id":
				return []string{f.id}
			case "resource-id":
				return []string{f.resource}
			case "traffic-type":
				return []string{f.traffic}
			case "log-destination-type":
				return []string{f.destType}
			case "deliver-log-status":
				return []string{"SUCCESS"}
			}
			return nil
		}) {
			list = append(list, s.flowLogOut(f))
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeFlowLogsOutput{FlowLogs: page, NextToken: next}, nil
}

func (s *ec2Sim) DeleteFlowLogs(_ context.Context, in *ec2.DeleteFlowLogsInput) (*ec2.DeleteFlowLogsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.FlowLogIds) == 0 {
		return nil, apiError("MissingParameter", "The request must contain the parameter FlowLogId")
	}
	out := &ec2.DeleteFlowLogsOutput{}
	for _, id := range in.FlowLogIds {
		if _, ok := s.flows[id]; !ok {
			out.Unsuccessful = append(out.Unsuccessful, t.UnsuccessfulItem{ResourceId: aws.String(id),
				Error: &t.UnsuccessfulItemError{Code: aws.String("InvalidFlowLogId.NotFound"),
					Message: aws.String("These flow log ids in the input list are not found: [TotalCount: 1] " + id)}})
			continue
		}
		delete(s.flows, id)
	}
	return out, nil
}

// dropFlowLogsOf removes the flow logs of a deleted resource (c.mu held): a
// flow log lives and dies with the VPC, subnet or interface it watches.
func (s *ec2Sim) dropFlowLogsOf(resource string) {
	for id, f := range s.flows {
		if f.resource == resource {
			delete(s.flows, id)
		}
	}
}

// FlowLogCount returns how many flow logs the account has (for tests).
func (c *Cloud) FlowLogCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ec2().flows)
}
