package app

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
)

func opErr(service, op string, err error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func TestExplainCommonFailures(t *testing.T) {
	denied := opErr("EC2", "CreateVpc", &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})
	cases := []struct {
		name string
		err  error
		want []string
		code string
	}{
		{"access denied", denied, []string{"AWS denied EC2 CreateVpc (UnauthorizedOperation)", "wbo-deploy iam-policy"}, "UnauthorizedOperation"},
		{"access denied inside a run", &provision.RunError{Msg: "vpc (ec2.vpc): create: " + denied.Error(),
			Nodes: []provision.NodeResult{{Name: "vpc", Kind: "ec2.vpc", Err: fmt.Errorf("create: %w", denied)}}},
			[]string{"vpc (ec2.vpc): AWS denied EC2 CreateVpc"}, "UnauthorizedOperation"},
		{"throttling outlasted retries", opErr("ECS", "DescribeServices", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}),
			[]string{"AWS kept throttling ECS DescribeServices after every retry", "run again"}, "ThrottlingException"},
		{"unknown profile", awsconfig.SharedConfigProfileNotExistError{Profile: "nope"}, []string{`AWS profile "nope" does not exist`}, "failure"},
		{"expired SSO", &awsclients.CredentialsError{Err: errors.New("failed to refresh cached credentials, refresh cached SSO token failed, unable to refresh SSO token, operation error SSO OIDC: CreateToken, InvalidGrantException")},
			[]string{"SSO session has expired", "aws sso login"}, "credentials"},
		{"unreachable", opErr("STS", "GetCallerIdentity", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: errors.New("connection refused")}),
			[]string{"cannot reach the AWS endpoint 127.0.0.1:1 (STS GetCallerIdentity)"}, "endpoint_unreachable"},
	}
	for _, c := range cases {
		got := Explain(c.err)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
		if doc := NewErrorDocument(c.err, 1); doc.Error.Code != c.code {
			t.Errorf("%s: error code %q, want %q", c.name, doc.Error.Code, c.code)
		}
	}
}
