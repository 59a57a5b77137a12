package fargate

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

const (
	tBucket = "wbo-authz"
	tRole   = "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task"
)

// boardsPolicy is shaped like the task role's: list under boards/ only,
// read/write/delete objects under it.
const boardsPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::wbo-authz","Condition":{"StringLike":{"s3:prefix":"boards/*"}}},
 {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::wbo-authz/boards/*"}]}`

func client(t *testing.T, srv *S3, c Credentials) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
}

func roleS3(t *testing.T, docs ...string) (*S3, *s3.Client) {
	t.Helper()
	srv := NewS3(t, tBucket)
	p, err := ParsePolicies(docs...)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddRole(tRole, p)
	return srv, client(t, srv, srv.AssumeRole(tRole, "test"))
}

// apiError returns the error code and HTTP status of err ("" if nil).
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", http.StatusOK
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func mustPut(t *testing.T, srv *S3, key, body string) {
	t.Helper()
	if _, err := srv.Backend.PutObject(tBucket, key, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
}

// TestMissingKeyIs403WithoutListBucket: GET/HEAD of a missing key answer
// 404 only to a caller with s3:ListBucket on the bucket; the task role's
// ListBucket is conditioned on s3:prefix, which such a GET does not carry,
// so it gets 403 (what the lease reader works around by listing first).
func TestMissingKeyIs403WithoutListBucket(t *testing.T) {
	ctx := context.Background()
	_, c := roleS3(t, boardsPolicy)
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/.leases/x")})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("GET missing key with a prefix-conditioned ListBucket: %s %d, want AccessDenied 403", code, status)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/.leases/x")})
	if _, status := apiError(t, err); status != 403 {
		t.Errorf("HEAD missing key: status %d, want 403", status)
	}
	listAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::wbo-authz"}]}`
	_, c = roleS3(t, boardsPolicy, listAll)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/.leases/x")})
	if code, status := apiError(t, err); code != "NoSuchKey" || status != 404 {
		t.Errorf("GET missing key with ListBucket: %s %d, want NoSuchKey 404", code, status)
	}
}

// TestRequestsOutsideThePolicy: listing needs the prefix condition, writes
// and reads are limited to the prefix, and the denial is S3's AccessDenied.
func TestRequestsOutsideThePolicy(t *testing.T) {
	ctx := context.Background()
	srv, c := roleS3(t, boardsPolicy)
	mustPut(t, srv, "boards/board-a.svg", "a")
	mustPut(t, srv, "private/x", "x")
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(tBucket), Prefix: aws.String("boards/")}); err != nil {
		t.Errorf("list boards/: %v", err)
	}
	for _, p := range []*string{nil, aws.String("private/")} {
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(tBucket), Prefix: p})
		if code, _ := apiError(t, err); code != "AccessDenied" {
			t.Errorf("list with prefix %v: %v, want AccessDenied", aws.ToString(p), err)
		}
	}
	if _, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(tBucket), Prefix: aws.String("boards/")}); err == nil {
		t.Error("ListObjectVersions needs s3:ListBucketVersions, which the policy lacks")
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/board-b.svg"), Body: strings.NewReader("b")}); err != nil {
		t.Errorf("put under boards/: %v", err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(tBucket), Key: aws.String("private/y"), Body: strings.NewReader("y")})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 || !strings.Contains(err.Error(), "s3:PutObject") {
		t.Errorf("put outside boards/: %v", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tBucket), Key: aws.String("private/x")}); err == nil {
		t.Error("get outside boards/ allowed")
	}
	// CopyObject reads its source: copying private/x into boards/ is refused.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/copy"), CopySource: aws.String(tBucket + "/private/x")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("copy from outside boards/: %v", err)
	}
	// Versioned reads and deletes are other actions.
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/board-a.svg"), VersionId: aws.String("v1")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("DeleteObject with a version needs s3:DeleteObjectVersion: %v", err)
	}
	// DeleteObjects decides each key on its own.
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(tBucket), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
		{Key: aws.String("boards/board-a.svg")}, {Key: aws.String("private/x")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "boards/board-a.svg" || len(out.Errors) != 1 ||
		aws.ToString(out.Errors[0].Key) != "private/x" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("DeleteObjects: deleted %+v, errors %+v", out.Deleted, out.Errors)
	}
	if _, err := srv.Backend.HeadObject(tBucket, "private/x"); err != nil {
		t.Errorf("private/x was deleted: %v", err)
	}
}

// TestCredentialsAndExplicitDeny: unknown keys and wrong tokens are
// refused; an explicit Deny wins over an Allow.
func TestCredentialsAndExplicitDeny(t *testing.T) {
	ctx := context.Background()
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`
	srv, c := roleS3(t, boardsPolicy, deny)
	mustPut(t, srv, "boards/board-a.svg", "a")
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/board-a.svg")})
	if code, _ := apiError(t, err); code != "AccessDenied" || !strings.Contains(err.Error(), "explicit deny") {
		t.Errorf("explicitly denied delete: %v", err)
	}
	bad := client(t, srv, Credentials{AccessKeyID: "ASIAUNKNOWN", SecretAccessKey: "x", SessionToken: "y"})
	_, err = bad.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/board-a.svg")})
	if code, _ := apiError(t, err); code != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %v", err)
	}
	cr := srv.AssumeRole(tRole, "other")
	cr.SessionToken = "forged"
	_, err = client(t, srv, cr).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tBucket), Key: aws.String("boards/board-a.svg")})
	if code, _ := apiError(t, err); code != "InvalidToken" {
		t.Errorf("wrong session token: %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	if _, status := apiError(t, err); status != 404 {
		t.Errorf("a missing bucket is 404 whoever asks: %v", err)
	}
}

// TestClassify: operations map to the actions of the Service
// Authorization Reference.
func TestClassify(t *testing.T) {
	cases := []struct {
		method, target string
		header         map[string]string
		op             string
		checks         []string
	}{
		{"GET", "/b?list-type=2&prefix=p/", nil, "ListObjectsV2", []string{"s3:ListBucket on arn:aws:s3:::b"}},
		{"GET", "/b?versions&prefix=p/", nil, "ListObjectVersions", []string{"s3:ListBucketVersions on arn:aws:s3:::b"}},
		{"GET", "/b?location", nil, "GetBucketLocation", []string{"s3:GetBucketLocation on arn:aws:s3:::b"}},
		{"HEAD", "/b", nil, "HeadBucket", []string{"s3:ListBucket on arn:aws:s3:::b"}},
		{"GET", "/b/k/x", nil, "GetObject", []string{"s3:GetObject on arn:aws:s3:::b/k/x"}},
		{"GET", "/b/k?versionId=1", nil, "GetObject", []string{"s3:GetObjectVersion on arn:aws:s3:::b/k"}},
		{"HEAD", "/b/k", nil, "HeadObject", []string{"s3:GetObject on arn:aws:s3:::b/k"}},
		{"PUT", "/b/k", nil, "PutObject", []string{"s3:PutObject on arn:aws:s3:::b/k"}},
		{"PUT", "/b/k", map[string]string{"X-Amz-Copy-Source": "/b/src%20x?versionId=2"}, "CopyObject",
			[]string{"s3:PutObject on arn:aws:s3:::b/k", "s3:GetObjectVersion on arn:aws:s3:::b/src x"}},
		{"POST", "/b/k?uploads", nil, "CreateMultipartUpload", []string{"s3:PutObject on arn:aws:s3:::b/k"}},
		{"PUT", "/b/k?partNumber=1&uploadId=u", nil, "UploadPart", []string{"s3:PutObject on arn:aws:s3:::b/k"}},
		{"POST", "/b/k?uploadId=u", nil, "CompleteMultipartUpload", []string{"s3:PutObject on arn:aws:s3:::b/k"}},
		{"DELETE", "/b/k?uploadId=u", nil, "AbortMultipartUpload", []string{"s3:AbortMultipartUpload on arn:aws:s3:::b/k"}},
		{"DELETE", "/b/k", nil, "DeleteObject", []string{"s3:DeleteObject on arn:aws:s3:::b/k"}},
		{"GET", "/b/k?tagging", nil, "GetObjectTagging", []string{"s3:GetObjectTagging on arn:aws:s3:::b/k"}},
	}
	for _, tc := range cases {
		r, err := http.NewRequest(tc.method, "http://127.0.0.1"+tc.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		b, k := splitPath(r.URL.Path)
		op, checks, err := classify(r, b, k)
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.target, err)
			continue
		}
		var got []string
		for _, c := range checks {
			got = append(got, c.String())
		}
		if op != tc.op || strings.Join(got, "; ") != strings.Join(tc.checks, "; ") {
			t.Errorf("%s %s: %s %v, want %s %v", tc.method, tc.target, op, got, tc.op, tc.checks)
		}
	}
	r, _ := http.NewRequest("GET", "http://127.0.0.1/b/k?legal-hold", nil)
	if _, _, err := classify(r, "b", "k"); err == nil {
		t.Error("an unmodelled operation must be refused")
	}
	r, _ = http.NewRequest("GET", "http://127.0.0.1/b?list-type=2&prefix=boards/&max-keys=1", nil)
	_, checks, _ := classify(r, "b", "")
	if got := checks[0].ctx; got["s3:prefix"][0] != "boards/" || got["s3:max-keys"][0] != "1" || got["s3:delimiter"] != nil {
		t.Errorf("ListBucket context %v", got)
	}
}

// TestECSDescribeTasksAuthorized: ECS calls on the same endpoint are
// authorized too: ecs:DescribeTasks on the task ARN with ecs:cluster.
func TestECSDescribeTasksAuthorized(t *testing.T) {
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:DescribeTasks",
 "Resource":"arn:aws:ecs:us-east-1:123456789012:task/wbo/*",
 "Condition":{"ArnEquals":{"ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/wbo"}}}]}`
	srv, _ := roleS3(t, policy)
	srv.SetECS(NewTasks())
	cr := srv.AssumeRole(tRole, "test")
	c := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)})
	out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("wbo"), Tasks: []string{"0123"}})
	if err != nil {
		t.Fatalf("describe a task of cluster wbo: %v", err)
	}
	if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("an unknown task is a MISSING failure: %+v", out.Failures)
	}
	_, err = c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("other"), Tasks: []string{"0123"}})
	if code, _ := apiError(t, err); code != "AccessDeniedException" {
		t.Errorf("describe a task of another cluster: %v", err)
	}
	if _, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("wbo")}); err == nil {
		t.Error("an unmodelled ECS call must be refused")
	}
}
