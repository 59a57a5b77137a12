// Package awserr classifies AWS errors in one place. Callers branch on these
// predicates, never on message text; every predicate looks at the smithy API
// error code (see ../shared/reference/aws-behaviour.md and the service API
// references for the codes).
package awserr

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// Code returns the AWS error code of err, or "" when err carries none.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message returns the AWS error message of err, or err.Error().
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// HasCode reports whether err's code is one of codes.
func HasCode(err error, codes ...string) bool {
	c := Code(err)
	if c == "" {
		return false
	}
	for _, x := range codes {
		if c == x {
			return true
		}
	}
	return false
}

// notFound lists the codes AWS uses for "that resource does not exist".
var notFound = map[string]bool{
	// EC2
	"InvalidVpcID.NotFound": true, "InvalidSubnetID.NotFound": true, "InvalidGroup.NotFound": true,
	"InvalidInternetGatewayID.NotFound": true, "InvalidRouteTableID.NotFound": true,
	"InvalidNetworkInterfaceID.NotFound": true, "InvalidAssociationID.NotFound": true,
	"InvalidRoute.NotFound": true, "InvalidPermission.NotFound": true, "InvalidFlowLogId.NotFound": true,
	// ELBv2
	"LoadBalancerNotFound": true, "TargetGroupNotFound": true, "ListenerNotFound": true, "RuleNotFound": true,
	// ECS
	"ClusterNotFoundException": true, "ServiceNotFoundException": true,
	// IAM
	"NoSuchEntity": true,
	// S3
	"NoSuchBucket": true, "NotFound": true, "NoSuchKey": true, "NoSuchLifecycleConfiguration": true,
	"NoSuchBucketPolicy": true, "ServerSideEncryptionConfigurationNotFoundError": true,
	"NoSuchPublicAccessBlockConfiguration": true, "NoSuchTagSet": true, "OwnershipControlsNotFoundError": true,
	// Logs
	"ResourceNotFoundException": true,
	// ElastiCache
	"CacheSubnetGroupNotFoundFault": true, "ReplicationGroupNotFoundFault": true, "CacheClusterNotFound": true,
	// CloudWatch (its Query-compatible code; DashboardNotFoundError is the
	// shape name an emulator without the awsQueryCompatible header answers); SNS answers NotFound, listed with S3
	"ResourceNotFound": true, "NotFoundException": true, "DashboardNotFoundError": true,
	// Application Auto Scaling
	"ObjectNotFoundException": true,
	// Route 53 (ACM answers ResourceNotFoundException, listed with Logs)
	"NoSuchHostedZone": true, "NoSuchChange": true,
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool {
	return notFound[Code(err)]
}

// IsDuplicate reports whether err says the resource or rule already exists.
func IsDuplicate(err error) bool {
	return HasCode(err, "InvalidGroup.Duplicate", "InvalidPermission.Duplicate", "RouteAlreadyExists",
		"DuplicateLoadBalancerName", "DuplicateTargetGroupName", "DuplicateListener", "PriorityInUse",
		"EntityAlreadyExists", "BucketAlreadyOwnedByYou", "ResourceAlreadyExistsException",
		"CacheSubnetGroupAlreadyExists", "ReplicationGroupAlreadyExists", "Resource.AlreadyAssociated")
}

// IsDependency reports whether err says something else still uses the
// resource; deleting again later usually succeeds.
func IsDependency(err error) bool {
	return HasCode(err, "DependencyViolation", "ResourceInUse", "DeleteConflict", "CacheSubnetGroupInUse",
		"InvalidReplicationGroupState", "InvalidCacheClusterState", "ClusterContainsServicesException",
		"ClusterContainsTasksException", "ClusterContainsContainerInstancesException", "BucketNotEmpty",
		// ACM DeleteCertificate of a certificate a listener still uses
		// ("ResourceInUseException: The certificate is in use", ACM API
		// reference, DeleteCertificate).
		"ResourceInUseException")
}

// IsThrottle reports whether err is a throttling answer (the SDK retries
// these itself; this is for errors that exhausted its attempts).
func IsThrottle(err error) bool {
	return HasCode(err, "Throttling", "ThrottlingException", "ThrottledException", "Throttled", "RequestLimitExceeded",
		"TooManyRequestsException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete")
}

// IsAccessDenied reports a permission problem: the user must act. SNS says
// AuthorizationError ("Indicates that the user has been denied access to the
// requested resource", SNS API reference); S3 answers a HEAD refusal with a
// bodiless 403 the SDK names Forbidden.
func IsAccessDenied(err error) bool {
	c := Code(err)
	return c == "AccessDenied" || c == "AccessDeniedException" || c == "UnauthorizedOperation" ||
		c == "AuthorizationError" || c == "Forbidden" || strings.HasSuffix(c, ".Unauthorized")
}

// IsTargetGroupNotAssociated reports whether ECS refused a target group it
// sees no load balancer for: InvalidParameterException "The target group with
// targetGroupArn ... does not have an associated load balancer." Right after
// the listener or rule was created that is propagation
// (hashicorp/terraform-provider-aws#3535, aws/aws-cdk#34290).
func IsTargetGroupNotAssociated(err error) bool {
	return HasCode(err, "InvalidParameterException") && strings.Contains(strings.ToLower(Message(err)), "does not have an associated load balancer")
}

// IsLogBucketDenied reports whether ELB refused to turn access logs on
// because it could not write to the bucket: InvalidConfigurationRequest
// "Access Denied for bucket: X. Please check S3bucket permission". Right after
// the bucket policy was written that is propagation, and a retry seconds later
// succeeds (hashicorp/terraform-provider-aws#12010); a wrong policy answers
// the same, for good.
func IsLogBucketDenied(err error) bool {
	return HasCode(err, "InvalidConfigurationRequest") && strings.Contains(strings.ToLower(Message(err)), "access denied for bucket")
}

// IsRoleNotPropagated reports whether err is ECS refusing an IAM role that was
// just created (or whose trust policy just changed) because the change has
// not reached ECS yet; the same call succeeds seconds later. This is the one
// check of this package that reads the message: ECS signals it only with its
// generic codes, InvalidParameterException (CreateService, UpdateService:
// "Unable to assume role and validate the specified targetGroupArn. Please
// verify that the ECS service role being passed has the proper permissions.",
// hashicorp/terraform#4375, retried by terraform-provider-aws's ECS service
// resource) and ClientException (RegisterTaskDefinition "Role is not valid",
// fabfuel/ecs-deploy#231; RunTask "ECS was unable to assume the role '...'
// that was provided for this task", pulumi/pulumi-awsx#927).
func IsRoleNotPropagated(err error) bool {
	if !HasCode(err, "InvalidParameterException", "ClientException") {
		return false
	}
	m := strings.ToLower(Message(err))
	return strings.Contains(m, "unable to assume") || strings.Contains(m, "role is not valid")
}

// IsCredentials reports missing or expired credentials.
func IsCredentials(err error) bool {
	return HasCode(err, "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
		"AuthFailure", "SignatureDoesNotMatch", "InvalidAccessKeyId")
}

// IsNameHeld reports S3 refusing CreateBucket of a name that was deleted a
// moment ago and is still queued for deletion: 409 OperationAborted, "A
// conflicting conditional operation is currently in progress against this
// resource. Please try again." (S3 API reference, Error responses; AWS
// knowledge center, s3-conflicting-conditional-operation). The same call
// succeeds once S3 releases the name.
func IsNameHeld(err error) bool {
	return HasCode(err, "OperationAborted")
}

// IsPreconditionFailed: a conditional request's If-Match / If-None-Match did
// not hold (S3 412 PreconditionFailed).
func IsPreconditionFailed(err error) bool { return HasCode(err, "PreconditionFailed") }

// IsConditionalConflict: a conflicting operation completed during a
// conditional S3 write (409 ConditionalRequestConflict); "On a 409 failure
// you should fetch the object's ETag and retry the upload" (PutObject API
// reference).
func IsConditionalConflict(err error) bool { return HasCode(err, "ConditionalRequestConflict") }

// IsNoSuchKey: the S3 object does not exist (GetObject NoSuchKey; HEAD
// answers without a body, so the SDK names it NotFound).
func IsNoSuchKey(err error) bool { return HasCode(err, "NoSuchKey", "NotFound") }

// IsNoSuchBucket: the S3 bucket does not exist.
func IsNoSuchBucket(err error) bool { return HasCode(err, "NoSuchBucket") }
