package fargate

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// classify maps an S3 REST request (path style) to its API operation and
// the authorizations it needs, per the Service Authorization Reference
// ("Actions, resources, and condition keys for Amazon S3": the action each
// operation requires, its resource type — bucket arn:aws:s3:::B or object
// arn:aws:s3:::B/K — and the condition keys it carries, e.g. s3:prefix,
// s3:delimiter and s3:max-keys on ListBucket). An operation it does not
// know is refused, so a script using something unmodelled fails loudly.
func classify(r *http.Request, bucket, key string) (op string, checks []check, err error) {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucketARN := "arn:aws:s3:::" + bucket
	objectARN := bucketARN + "/" + key
	one := func(op, action, res string, ctx map[string][]string) (string, []check, error) {
		return op, []check{{action: action, resource: res, ctx: ctx}}, nil
	}
	if bucket == "" {
		if r.Method == http.MethodGet {
			return one("ListBuckets", "s3:ListAllMyBuckets", "*", nil)
		}
		return "", nil, fmt.Errorf("unmodelled S3 request %s /", r.Method)
	}
	if key == "" {
		switch r.Method {
		case http.MethodGet:
			for _, sub := range bucketSubresources {
				if has(sub.query) {
					return one(sub.op, sub.action, bucketARN, nil)
				}
			}
			ctx := listContext(q)
			switch {
			case has("versions"):
				return one("ListObjectVersions", "s3:ListBucketVersions", bucketARN, ctx)
			case has("uploads"):
				return one("ListMultipartUploads", "s3:ListBucketMultipartUploads", bucketARN, nil)
			case q.Get("list-type") == "2":
				return one("ListObjectsV2", "s3:ListBucket", bucketARN, ctx)
			case len(q) == 0 || has("prefix") || has("delimiter") || has("marker") || has("max-keys") || has("encoding-type"):
				return one("ListObjects", "s3:ListBucket", bucketARN, ctx)
			}
		case http.MethodHead:
			return one("HeadBucket", "s3:ListBucket", bucketARN, nil)
		case http.MethodPost:
			if has("delete") {
				return "DeleteObjects", nil, nil // each key on its own (S3.deleteObjects)
			}
		case http.MethodPut:
			if len(q) == 0 {
				return one("CreateBucket", "s3:CreateBucket", bucketARN, nil)
			}
			for _, sub := range bucketSubresources {
				if has(sub.query) && sub.put != "" {
					return one("Put"+strings.TrimPrefix(sub.op, "Get"), sub.put, bucketARN, nil)
				}
			}
		case http.MethodDelete:
			if len(q) == 0 {
				return one("DeleteBucket", "s3:DeleteBucket", bucketARN, nil)
			}
		}
		return "", nil, fmt.Errorf("unmodelled S3 bucket request %s ?%s", r.Method, r.URL.RawQuery)
	}
	versioned := q.Get("versionId") != ""
	pick := func(plain, version string) string {
		if versioned {
			return version
		}
		return plain
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return one("ListParts", "s3:ListMultipartUploadParts", objectARN, nil)
		case has("acl"):
			return one("GetObjectAcl", pick("s3:GetObjectAcl", "s3:GetObjectVersionAcl"), objectARN, nil)
		case has("tagging"):
			return one("GetObjectTagging", pick("s3:GetObjectTagging", "s3:GetObjectVersionTagging"), objectARN, nil)
		case has("attributes"):
			return one("GetObjectAttributes", pick("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"), objectARN, nil)
		case has("retention"), has("legal-hold"), has("torrent"):
			return "", nil, fmt.Errorf("unmodelled S3 object request GET ?%s", r.URL.RawQuery)
		}
		return one("GetObject", pick("s3:GetObject", "s3:GetObjectVersion"), objectARN, nil)
	case http.MethodHead:
		return one("HeadObject", pick("s3:GetObject", "s3:GetObjectVersion"), objectARN, nil)
	case http.MethodPut:
		ctx := putContext(r)
		switch {
		case has("tagging"):
			return one("PutObjectTagging", pick("s3:PutObjectTagging", "s3:PutObjectVersionTagging"), objectARN, nil)
		case has("acl"):
			return one("PutObjectAcl", pick("s3:PutObjectAcl", "s3:PutObjectVersionAcl"), objectARN, nil)
		case has("retention"), has("legal-hold"):
			return "", nil, fmt.Errorf("unmodelled S3 object request PUT ?%s", r.URL.RawQuery)
		}
		op := "PutObject"
		if has("partNumber") && has("uploadId") {
			op = "UploadPart"
		}
		checks = []check{{action: "s3:PutObject", resource: objectARN, ctx: ctx}}
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			// CopyObject / UploadPartCopy: read the source too.
			op = map[string]string{"PutObject": "CopyObject", "UploadPart": "UploadPartCopy"}[op]
			srcPath, srcQuery, _ := strings.Cut(src, "?")
			if p, err := url.PathUnescape(srcPath); err == nil {
				srcPath = p
			}
			action := "s3:GetObject"
			if strings.Contains(srcQuery, "versionId=") {
				action = "s3:GetObjectVersion"
			}
			checks = append(checks, check{action: action, resource: "arn:aws:s3:::" + strings.TrimPrefix(srcPath, "/")})
		}
		return op, checks, nil
	case http.MethodPost:
		switch {
		case has("uploads"):
			return one("CreateMultipartUpload", "s3:PutObject", objectARN, putContext(r))
		case has("uploadId"):
			return one("CompleteMultipartUpload", "s3:PutObject", objectARN, nil)
		case has("restore"):
			return one("RestoreObject", "s3:RestoreObject", objectARN, nil)
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return one("AbortMultipartUpload", "s3:AbortMultipartUpload", objectARN, nil)
		case has("tagging"):
			return one("DeleteObjectTagging", pick("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"), objectARN, nil)
		}
		return one("DeleteObject", pick("s3:DeleteObject", "s3:DeleteObjectVersion"), objectARN, nil)
	}
	return "", nil, fmt.Errorf("unmodelled S3 object request %s ?%s", r.Method, r.URL.RawQuery)
}

// bucketSubresources are bucket configuration reads (and their writes).
var bucketSubresources = []struct{ query, op, action, put string }{
	{"location", "GetBucketLocation", "s3:GetBucketLocation", ""},
	{"versioning", "GetBucketVersioning", "s3:GetBucketVersioning", "s3:PutBucketVersioning"},
	{"policy", "GetBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"},
	{"acl", "GetBucketAcl", "s3:GetBucketAcl", "s3:PutBucketAcl"},
	{"tagging", "GetBucketTagging", "s3:GetBucketTagging", "s3:PutBucketTagging"},
	{"encryption", "GetBucketEncryption", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"},
	{"lifecycle", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"},
	{"logging", "GetBucketLogging", "s3:GetBucketLogging", "s3:PutBucketLogging"},
	{"publicAccessBlock", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
	{"ownershipControls", "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"},
}

// listContext: the condition keys of s3:ListBucket / s3:ListBucketVersions,
// present only when the request carries the parameter.
func listContext(q url.Values) map[string][]string {
	ctx := map[string][]string{}
	for param, k := range map[string]string{"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"} {
		if v, ok := q[param]; ok {
			ctx[k] = v[:1]
		}
	}
	return ctx
}

// putContext: the PutObject condition keys taken from request headers.
func putContext(r *http.Request) map[string][]string {
	ctx := map[string][]string{}
	for h, k := range map[string]string{
		"X-Amz-Acl":                                   "s3:x-amz-acl",
		"X-Amz-Server-Side-Encryption":                "s3:x-amz-server-side-encryption",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "s3:x-amz-server-side-encryption-aws-kms-key-id",
		"X-Amz-Storage-Class":                         "s3:x-amz-storage-class",
		"X-Amz-Copy-Source":                           "s3:x-amz-copy-source",
		"X-Amz-Metadata-Directive":                    "s3:x-amz-metadata-directive",
		"X-Amz-Object-Lock-Mode":                      "s3:object-lock-mode",
	} {
		if v := r.Header.Get(h); v != "" {
			ctx[k] = []string{v}
		}
	}
	return ctx
}
