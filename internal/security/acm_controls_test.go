package security

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
)

// checkACM checks the ACM controls on the certificate the HTTPS listener
// serves (https: imported by the account's owner; domain: requested by up).
func checkACM(t *testing.T, d *deployment, v variant) {
	if v.certificate == "" {
		return
	}
	out, err := d.sdk.ACM.DescribeCertificate(context.Background(), &acm.DescribeCertificateInput{CertificateArn: aws.String(d.certARN)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Certificate
	// ACM.1: "Imported and ACM-issued certificates should be renewed after
	// a specified time period": fails for a certificate expiring within 30
	// days (the control's default daysToExpiration).
	t.Run("ACM.1", func(t *testing.T) {
		if c.NotAfter == nil || time.Until(*c.NotAfter) < 30*24*time.Hour {
			t.Fatalf("certificate %s expires %v: within 30 days", d.certARN, c.NotAfter)
		}
		if v.name == "domain" {
			// An Amazon-issued certificate renews by itself while its
			// validation record stays in DNS (up keeps it; destroy deletes
			// both): DNS validation, not email.
			if c.Type != acmt.CertificateTypeAmazonIssued || len(c.DomainValidationOptions) == 0 || c.DomainValidationOptions[0].ValidationMethod != acmt.ValidationMethodDns {
				t.Fatalf("the domain's certificate is %s with validation %+v: want AMAZON_ISSUED, DNS validated", c.Type, c.DomainValidationOptions)
			}
		}
	})
	// ACM.2: "RSA certificates managed by ACM should use a key length of at
	// least 2,048 bits".
	t.Run("ACM.2", func(t *testing.T) {
		switch c.KeyAlgorithm {
		case acmt.KeyAlgorithmRsa1024:
			t.Fatalf("certificate %s uses %s", d.certARN, c.KeyAlgorithm)
		case "":
			t.Fatalf("certificate %s reports no key algorithm", d.certARN)
		}
	})
}
