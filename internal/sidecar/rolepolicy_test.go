package sidecar_test

import (
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/sidecar"
)

// The scripts' own tests (package sidecar) run against S3 behind the task
// role policy the tool generates; they cannot import provision (an import
// cycle), so it is handed to them here, before any test runs.
func init() {
	sidecar.TaskRolePolicy = func(bucket, prefix string) (string, error) {
		cfg := config.Default()
		cfg.Region = "us-east-1"
		cfg.Storage.Prefix = prefix
		return provision.TaskRolePolicyFor(&cfg, provision.TaskRefs{Account: "123456789012", Region: "us-east-1", Bucket: bucket})
	}
}
