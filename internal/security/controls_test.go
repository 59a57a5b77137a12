package security

import (
	"os"
	"strings"
	"testing"
)

// The deployments the controls are checked on. Each is a whole stack
// deployed by app.Up into its own simulated account (they run in
// parallel). docs/security.md says which variant proves what.
type variant struct {
	name   string
	config string
	// What the configuration asks for, so each check knows what it should
	// find (the checks read everything else from AWS).
	certificate        string // load_balancer.certificate_arn
	kmsKey             string // storage.kms_key_id
	deletionProtection bool
}

const (
	testCertARN  = "arn:aws:acm:us-east-1:123456789012:certificate/0c8a8c36-1a2b-4c3d-9e8f-0123456789ab"
	testKeyARN   = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	testKeyAlias = "alias/wbo-boards"
)

var variants = []variant{
	{name: "default", config: "stack: wbo\n"},
	{name: "https", certificate: testCertARN, deletionProtection: true,
		config: "stack: wbo\nload_balancer:\n  certificate_arn: " + testCertARN + "\n  deletion_protection: true\n"},
	{name: "kms-key", kmsKey: testKeyARN,
		config: "stack: wbo\nstorage:\n  kms_key_id: " + testKeyARN + "\n"},
	// domain.name in a Route 53 zone of the account (made before up): the
	// certificate is requested and validated by up itself.
	{name: "domain", certificate: "domain",
		config: "stack: wbo\ndomain:\n  name: wbo.example.com\n"},
	// The alias is made in the account before up; the task role may then
	// use the key it names, by ARN.
	{name: "kms-alias", kmsKey: testKeyAlias,
		config: "stack: wbo\nstorage:\n  kms_key_id: " + testKeyAlias + "\n"},
}

// TestFSBPControls deploys each variant and checks every applicable
// control of the AWS Foundational Security Best Practices standard (and
// the NIST 800-53 controls issue 9 names) on what AWS reports. Subtests are
// named <variant>/<control ID>[/<resource>].
func TestFSBPControls(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			alias := ""
			if strings.HasPrefix(v.kmsKey, "alias/") {
				alias = v.kmsKey
			}
			d := deploy(t, v.config, alias)
			if os.Getenv(sabotageEnv) != "" && v.name == "default" {
				sabotage(t, d)
			}
			checkS3(t, d, v)
			checkELB(t, d, v)
			checkElastiCache(t, d, v)
			checkECS(t, d, v)
			checkIAM(t, d, v)
			checkNetwork(t, d, v)
			checkLogsAndSNS(t, d, v)
			checkSecrets(t, d)
			checkACM(t, d, v)
		})
	}
}

// finding asserts a control that fails today and whose fix is pending in
// the provisioner: while the control still fails (ok == false) the subtest
// is skipped with a message naming the finding and the fix, so `go test -v`
// lists every open finding; once it passes, the subtest fails so that
// docs/security.md and this test are updated.
func finding(t *testing.T, id string, ok bool, why, fix string) {
	t.Helper()
	if ok {
		t.Fatalf("%s now passes: mark it pass in docs/security.md and turn this finding into a plain assertion", id)
	}
	t.Skipf("FINDING %s (fix pending): %s. Fix: %s", id, why, fix)
}

// exception records a reasoned exception after its check asserted the
// current state and any compensating control.
func exception(t *testing.T, id, reason string) {
	t.Helper()
	t.Logf("EXCEPTION %s: %s", id, reason)
}
