package awssim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// AWS Certificate Manager public certificates with DNS validation (ACM API
// reference, ACM User Guide "DNS validation"). Error codes:
// ResourceNotFoundException, ResourceInUseException, InvalidParameterException,
// InvalidArnException, InvalidDomainValidationOptionsException.
//
// Behaviour simulated:
//   - RequestCertificate answers an ARN at once; the validation CNAME
//     (DomainValidationOptions[].ResourceRecord) appears in DescribeCertificate
//     only a few seconds later (ACMRecordDelay), a well-known surprise of
//     other tools (terraform-provider-aws: "domain_validation_options" empty
//     right after the request). The record is _<hash>.<domain>. CNAME
//     _<hash>.<random>.acm-validations.aws.
//   - The status is PENDING_VALIDATION until the CNAME is visible in public
//     DNS (here: a Route 53 zone of the account whose change is INSYNC);
//     then ISSUED after ACMValidationDelay. Unvalidated after 72 hours:
//     VALIDATION_TIMED_OUT ("If you do not validate ... within 72 hours",
//     ACM User Guide).
//   - The same IdempotencyToken within an hour returns the same certificate
//     (RequestCertificate reference). Tags in the call need
//     acm:AddTagsToCertificate.
//   - DeleteCertificate of a certificate a load balancer listener uses
//     answers ResourceInUseException ("Certificate ... in use by ..."):
//     InUseBy lists the load balancers.
//   - Issued certificates are valid for 395 days (ACM User Guide, "Managed
//     certificate renewal": ACM public certificates are valid for 13 months).

// ACM delays in AWS time.
const (
	ACMRecordDelay     = 5 * time.Second
	ACMValidationDelay = 60 * time.Second
	ACMValidationLimit = 72 * time.Hour
	acmValidity        = 395 * 24 * time.Hour
)

type acmValidation struct {
	domain, name, value string
}

type acmCert struct {
	arn, domain      string
	sans             []string
	validations      []acmValidation
	tags             map[string]string
	token            string
	requested        time.Time
	recordAt         time.Time // validation records shown from then
	validatingSince  time.Time // zero until every record is visible
	issuedAt         time.Time
	notAfter         time.Time
	status           acmt.CertificateStatus
	keyAlgorithm     acmt.KeyAlgorithm
	validationMethod acmt.ValidationMethod
}

type acmSim struct {
	c     *Cloud
	certs map[string]*acmCert // by ARN
}

func init() {
	register("ACM", func(c *Cloud) any { return &acmSim{c: c, certs: map[string]*acmCert{}} })
}

func (c *Cloud) acm() *acmSim { return c.services["ACM"].(*acmSim) }

func (s *acmSim) inventory() []Resource {
	var out []Resource
	for _, arn := range sortedKeys(s.certs) {
		out = append(out, Resource{"ACM", "certificate", arn, copyTags(s.certs[arn].tags)})
	}
	return out
}

func acmToken(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// advance moves a certificate along its lifecycle (c.mu held).
func (s *acmSim) advance(ct *acmCert) {
	now := s.c.now()
	if ct.status != acmt.CertificateStatusPendingValidation {
		return
	}
	if now.After(ct.requested.Add(s.c.wall(ACMValidationLimit))) {
		ct.status = acmt.CertificateStatusValidationTimedOut
		return
	}
	if ct.validatingSince.IsZero() && !now.Before(ct.recordAt) {
		all := true
		for _, v := range ct.validations {
			all = all && s.c.route53().recordVisible(v.name, r53t.RRTypeCname, v.value)
		}
		if all {
			ct.validatingSince = now
		}
	}
	if !ct.validatingSince.IsZero() && now.After(ct.validatingSince.Add(s.c.wall(ACMValidationDelay))) {
		ct.status = acmt.CertificateStatusIssued
		ct.issuedAt = now
		ct.notAfter = now.Add(acmValidity)
	}
}

func (s *acmSim) RequestCertificate(_ context.Context, in *acm.RequestCertificateInput) (*acm.RequestCertificateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	domain := strings.ToLower(aws.ToString(in.DomainName))
	if domain == "" || len(domain) > 253 || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return nil, apiError("InvalidDomainValidationOptionsException", "The domain name %q is not valid", aws.ToString(in.DomainName))
	}
	if in.ValidationMethod != "" && in.ValidationMethod != acmt.ValidationMethodDns && in.ValidationMethod != acmt.ValidationMethodEmail {
		return nil, apiError("InvalidParameterException", "Invalid validation method")
	}
	now := s.c.now()
	if tok := aws.ToString(in.IdempotencyToken); tok != "" {
		for _, ct := range s.certs {
			if ct.token == tok && now.Sub(ct.requested) < s.c.wall(time.Hour) {
				return &acm.RequestCertificateOutput{CertificateArn: aws.String(ct.arn)}, nil
			}
		}
	}
	s.c.seq++
	n := uint64(s.c.seq) * 0x9e3779b97f4a7c15
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(n>>32), uint16(n>>16), uint16(n)&0xfff, uint16(n>>20)&0xfff, n&0xffffffffffff)
	arn := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", s.c.Region, s.c.Account, id)
	ct := &acmCert{arn: arn, domain: domain, tags: map[string]string{}, token: aws.ToString(in.IdempotencyToken), requested: now,
		recordAt: s.c.deadline(ACMRecordDelay), status: acmt.CertificateStatusPendingValidation,
		keyAlgorithm: acmt.KeyAlgorithmRsa2048, validationMethod: acmt.ValidationMethodDns}
	if in.KeyAlgorithm != "" {
		ct.keyAlgorithm = in.KeyAlgorithm
	}
	names := append([]string{domain}, in.SubjectAlternativeNames...)
	seen := map[string]bool{}
	for _, d := range names {
		d = strings.ToLower(d)
		if seen[d] {
			continue
		}
		seen[d] = true
		if d != domain {
			ct.sans = append(ct.sans, d)
		}
		base := strings.TrimPrefix(d, "*.")
		ct.validations = append(ct.validations, acmValidation{domain: d,
			name:  "_" + acmToken("n" + base)[:32] + "." + base + ".",
			value: "_" + acmToken("v" + base + arn)[:32] + ".xlfgrmvvlj.acm-validations.aws."})
	}
	for _, t := range in.Tags {
		ct.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	s.certs[arn] = ct
	return &acm.RequestCertificateOutput{CertificateArn: aws.String(arn)}, nil
}

func (s *acmSim) cert(arn string) (*acmCert, error) {
	if !strings.HasPrefix(arn, "arn:aws:acm:") {
		return nil, apiError("InvalidArnException", "The ARN %s is not valid", arn)
	}
	ct, ok := s.certs[arn]
	if !ok {
		return nil, apiError("ResourceNotFoundException", "Could not find certificate %s.", arn)
	}
	s.advance(ct)
	return ct, nil
}

// inUseBy lists the load balancers whose listeners use the certificate (c.mu held).
func (s *acmSim) inUseBy(arn string) []string {
	e := s.c.elbv2()
	seen := map[string]bool{}
	var out []string
	for _, l := range e.listeners {
		for _, c := range l.certs {
			if c == arn && !seen[l.lb] {
				seen[l.lb] = true
				out = append(out, l.lb)
			}
		}
	}
	return out
}

func (s *acmSim) DescribeCertificate(_ context.Context, in *acm.DescribeCertificateInput) (*acm.DescribeCertificateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ct, err := s.cert(aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	d := &acmt.CertificateDetail{CertificateArn: aws.String(ct.arn), DomainName: aws.String(ct.domain), Status: ct.status,
		Type: acmt.CertificateTypeAmazonIssued, KeyAlgorithm: ct.keyAlgorithm, CreatedAt: aws.Time(ct.requested),
		SubjectAlternativeNames: append([]string{ct.domain}, ct.sans...), InUseBy: s.inUseBy(ct.arn)}
	if !ct.issuedAt.IsZero() {
		d.IssuedAt, d.NotBefore, d.NotAfter = aws.Time(ct.issuedAt), aws.Time(ct.issuedAt), aws.Time(ct.notAfter)
	}
	showRecords := !s.c.now().Before(ct.recordAt)
	for _, v := range ct.validations {
		o := acmt.DomainValidation{DomainName: aws.String(v.domain), ValidationMethod: ct.validationMethod, ValidationDomain: aws.String(v.domain)}
		switch ct.status {
		case acmt.CertificateStatusIssued:
			o.ValidationStatus = acmt.DomainStatusSuccess
		case acmt.CertificateStatusValidationTimedOut:
			o.ValidationStatus = acmt.DomainStatusFailed
		default:
			o.ValidationStatus = acmt.DomainStatusPendingValidation
		}
		if showRecords {
			o.ResourceRecord = &acmt.ResourceRecord{Name: aws.String(v.name), Type: acmt.RecordTypeCname, Value: aws.String(v.value)}
		}
		d.DomainValidationOptions = append(d.DomainValidationOptions, o)
	}
	return &acm.DescribeCertificateOutput{Certificate: d}, nil
}

func (s *acmSim) ListCertificates(_ context.Context, in *acm.ListCertificatesInput) (*acm.ListCertificatesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	out := &acm.ListCertificatesOutput{}
	for _, arn := range sortedKeys(s.certs) {
		ct := s.certs[arn]
		s.advance(ct)
		if len(in.CertificateStatuses) > 0 {
			ok := false
			for _, st := range in.CertificateStatuses {
				ok = ok || st == ct.status
			}
			if !ok {
				continue
			}
		}
		out.CertificateSummaryList = append(out.CertificateSummaryList, acmt.CertificateSummary{CertificateArn: aws.String(arn),
			DomainName: aws.String(ct.domain), Status: ct.status, InUse: aws.Bool(len(s.inUseBy(arn)) > 0)})
	}
	return out, nil
}

func (s *acmSim) DeleteCertificate(_ context.Context, in *acm.DeleteCertificateInput) (*acm.DeleteCertificateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ct, err := s.cert(aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	if by := s.inUseBy(ct.arn); len(by) > 0 {
		return nil, apiError("ResourceInUseException", "Certificate %s in use by %s", ct.arn, strings.Join(by, ", "))
	}
	delete(s.certs, ct.arn)
	return &acm.DeleteCertificateOutput{}, nil
}

func (s *acmSim) AddTagsToCertificate(_ context.Context, in *acm.AddTagsToCertificateInput) (*acm.AddTagsToCertificateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ct, err := s.cert(aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		ct.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &acm.AddTagsToCertificateOutput{}, nil
}

func (s *acmSim) ListTagsForCertificate(_ context.Context, in *acm.ListTagsForCertificateInput) (*acm.ListTagsForCertificateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ct, err := s.cert(aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	out := &acm.ListTagsForCertificateOutput{}
	for _, k := range sortedKeys(ct.tags) {
		out.Tags = append(out.Tags, acmt.Tag{Key: aws.String(k), Value: aws.String(ct.tags[k])})
	}
	return out, nil
}
