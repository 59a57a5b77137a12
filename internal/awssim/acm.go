package awssim

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
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
//     only a few seconds later (Timing.ACMRecord, timing.go), a well-known
//     surprise of other tools (terraform-provider-aws: "domain_validation_options"
//     empty right after the request). The record is _<hash>.<domain>. CNAME
//     _<hash>.<random>.acm-validations.aws.
//   - Without ValidationMethod the request is for email validation, as
//     before DNS validation existed: no ResourceRecord, and (no mail in
//     the simulation) it is never validated.
//   - The status is PENDING_VALIDATION until the CNAME is visible in public
//     DNS (dns.go); then ISSUED after Timing.ACMValidation. Unvalidated
//     after 72 hours: VALIDATION_TIMED_OUT ("ACM makes repeated attempts to
//     validate a certificate for 72 hours and then times out",
//     CertificateDetail.Status, ACM API reference).
//   - The validation CNAME may be published in any public DNS: a Route 53
//     zone of the account or another provider (PublishExternalDNS, dns.go):
//     "The CNAME record that ACM creates for DNS validation. Add this record
//     to your DNS configuration to prove that you own or control the domain"
//     (DnsValidationChallenge, ACM API reference). The record depends on
//     the account and the domain only: a second certificate for the same
//     name gets the same record ("ACM used the same validation record" for
//     a duplicate certificate, dflook/cloudformation-dns-certificate#7), so
//     a record left in place validates it again.
//   - The same IdempotencyToken within an hour returns the same certificate
//     whatever the other parameters ("if you call RequestCertificate multiple
//     times with the same idempotency token within one hour, ACM recognizes
//     that you are requesting only one certificate and will issue only one",
//     RequestCertificate reference; its Errors list no parameter-mismatch
//     error). Tags in the call need acm:AddTagsToCertificate.
//   - DeleteCertificate of a certificate a load balancer listener uses
//     answers ResourceInUseException ("Certificate ARN in account ACCOUNT is
//     in use.", as quoted in AlexsLemonade/refinebio#2914 and
//     dfds/infrastructure-modules#5): InUseBy lists the load balancers, and
//     keeps listing one for a while after its listener let the certificate
//     go (WinACMInUse, consistency.go).
//   - ListCertificates without Includes.KeyTypes lists only RSA_1024 and
//     RSA_2048 certificates ("Default filtering returns only RSA_1024 and
//     RSA_2048 certificates", ListCertificates reference), MaxItems per page
//     with NextToken.
//   - ImportCertificate / IssuedCertificate give tests a certificate that is
//     ISSUED at once (an imported one, Type IMPORTED, or an Amazon-issued one
//     whose validation happened before the test).
//   - Issued certificates are valid for 395 days (ACM User Guide, "Managed
//     certificate renewal": ACM public certificates are valid for 13 months).

// ACM delays in AWS time: the realistic figures of Timing.ACMRecord and
// Timing.ACMValidation (timing.go, with their sources), the validation
// limit and the validity.
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
	typ              acmt.CertificateType
	importedAt       time.Time
	leaf             *x509.Certificate // what listeners present (public_http.go)
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
	if ct.status == acmt.CertificateStatusIssued && !ct.notAfter.IsZero() && now.After(ct.notAfter) {
		ct.status = acmt.CertificateStatusExpired // CertificateStatus EXPIRED (ACM API reference)
		return
	}
	if ct.status != acmt.CertificateStatusPendingValidation {
		return
	}
	if now.After(ct.requested.Add(s.c.wall(ACMValidationLimit))) {
		ct.status = acmt.CertificateStatusValidationTimedOut
		return
	}
	if ct.validatingSince.IsZero() && !now.Before(ct.recordAt) && ct.validationMethod == acmt.ValidationMethodDns {
		all := true
		for _, v := range ct.validations {
			all = all && s.c.dnsHas(v.name, r53t.RRTypeCname, v.value)
		}
		if all {
			ct.validatingSince = now
		}
	}
	if !ct.validatingSince.IsZero() && !now.Before(ct.validatingSince.Add(s.c.wall(s.c.Timing.ACMValidation))) {
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
	arn := s.newARN()
	ct := &acmCert{arn: arn, domain: domain, tags: map[string]string{}, token: aws.ToString(in.IdempotencyToken), requested: now,
		recordAt: s.c.deadline(s.c.Timing.ACMRecord), status: acmt.CertificateStatusPendingValidation,
		keyAlgorithm: acmt.KeyAlgorithmRsa2048, validationMethod: acmt.ValidationMethodEmail, typ: acmt.CertificateTypeAmazonIssued}
	if in.ValidationMethod != "" {
		ct.validationMethod = in.ValidationMethod
	}
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
		ct.validations = append(ct.validations, s.validationFor(d))
	}
	for _, t := range in.Tags {
		ct.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	s.certs[arn] = ct
	return &acm.RequestCertificateOutput{CertificateArn: aws.String(arn)}, nil
}

// newARN is a new certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/UUID (c.mu held).
func (s *acmSim) newARN() string {
	s.c.seq++
	n := uint64(s.c.seq) * 0x9e3779b97f4a7c15
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(n>>32), uint16(n>>16), uint16(n)&0xfff, uint16(n>>20)&0xfff, n&0xffffffffffff)
	return fmt.Sprintf("arn:%s:acm:%s:%s:certificate/%s", partitionOf(s.c.Region), s.c.Region, s.c.Account, id)
}

// ImportCertificate models ACM ImportCertificate of a certificate for domain
// (and sans) valid until notAfter: it is ISSUED at once, Type IMPORTED
// (ACM User Guide, "Importing certificates into AWS Certificate Manager";
// ACM does not renew imported certificates). It returns the ARN, for tests
// that give a listener (load_balancer.certificate_arn) a real certificate.
func (c *Cloud) ImportCertificate(domain string, notAfter time.Time, sans ...string) string {
	c.lock()
	defer c.unlock()
	s := c.acm()
	now := c.now()
	ct := &acmCert{arn: s.newARN(), domain: strings.ToLower(domain), tags: map[string]string{}, requested: now,
		status: acmt.CertificateStatusIssued, keyAlgorithm: acmt.KeyAlgorithmRsa2048, typ: acmt.CertificateTypeImported,
		importedAt: now, issuedAt: now.Add(-time.Hour), notAfter: notAfter}
	for _, d := range sans {
		if d = strings.ToLower(d); d != ct.domain {
			ct.sans = append(ct.sans, d)
		}
	}
	s.certs[ct.arn] = ct
	return ct.arn
}

// IssuedCertificate is an Amazon-issued public certificate for domain (and
// sans) that was validated before the test began: ISSUED, valid 395 days
// from now, its validation records in DomainValidationOptions.
func (c *Cloud) IssuedCertificate(domain string, sans ...string) string {
	c.lock()
	defer c.unlock()
	s := c.acm()
	now := c.now()
	ct := &acmCert{arn: s.newARN(), domain: strings.ToLower(domain), tags: map[string]string{}, requested: now,
		status: acmt.CertificateStatusIssued, keyAlgorithm: acmt.KeyAlgorithmRsa2048, typ: acmt.CertificateTypeAmazonIssued,
		validationMethod: acmt.ValidationMethodDns, issuedAt: now, notAfter: now.Add(acmValidity)}
	for _, d := range append([]string{ct.domain}, sans...) {
		d = strings.ToLower(d)
		if d != ct.domain {
			ct.sans = append(ct.sans, d)
		}
		ct.validations = append(ct.validations, s.validationFor(d))
	}
	s.certs[ct.arn] = ct
	return ct.arn
}

func (s *acmSim) validationFor(d string) acmValidation {
	base := strings.TrimPrefix(d, "*.")
	return acmValidation{domain: d,
		name:  "_" + acmToken("n" + base + s.c.Account)[:32] + "." + base + ".",
		value: "_" + acmToken("v" + base + s.c.Account)[:32] + ".xlfgrmvvlj.acm-validations.aws."}
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

// liveUsers lists the load balancers whose listeners use the certificate (c.mu held).
func (s *acmSim) liveUsers(arn string) []string {
	e := s.c.elbv2()
	seen := map[string]bool{}
	var out []string
	for _, l := range e.listeners {
		for _, c := range append(append([]string(nil), l.certs...), l.extra...) {
			if c == arn && !seen[l.lb] {
				seen[l.lb] = true
				out = append(out, l.lb)
			}
		}
	}
	sort.Strings(out)
	return out
}

// inUseBy is what ACM reports as InUseBy: the live users and, while
// WinACMInUse is open (this read counts as one), the load balancers that let
// the certificate go (c.mu held).
func (s *acmSim) inUseBy(arn string) []string {
	out := s.liveUsers(arn)
	if l := s.c.cons.open[winKey{WinACMInUse, arn}]; l != nil && s.c.inWindow(WinACMInUse, arn) {
		for _, lb := range l.ghost.([]string) {
			if !contains(out, lb) {
				out = append(out, lb)
			}
		}
		sort.Strings(out)
	}
	return out
}

// released records that lb's listeners no longer use the certificates
// (elbv2_listeners.go calls it; c.mu held): ACM keeps reporting them in use
// for a while (WinACMInUse).
func (s *acmSim) released(certs []string, lb string) {
	for _, arn := range certs {
		if _, ok := s.certs[arn]; !ok || contains(s.liveUsers(arn), lb) {
			continue
		}
		lbs := []string{lb}
		if l := s.c.cons.open[winKey{WinACMInUse, arn}]; l != nil {
			for _, o := range l.ghost.([]string) {
				if o != lb {
					lbs = append(lbs, o)
				}
			}
		}
		s.c.openWindow(WinACMInUse, arn, lbs)
	}
}

func (s *acmSim) DescribeCertificate(_ context.Context, in *acm.DescribeCertificateInput) (*acm.DescribeCertificateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ct, err := s.cert(aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	d := &acmt.CertificateDetail{CertificateArn: aws.String(ct.arn), DomainName: aws.String(ct.domain), Status: ct.status,
		Type: ct.typ, KeyAlgorithm: ct.keyAlgorithm, SubjectAlternativeNames: append([]string{ct.domain}, ct.sans...),
		InUseBy: s.inUseBy(ct.arn)}
	if d.InUseBy == nil {
		d.InUseBy = []string{}
	}
	switch {
	case ct.typ == acmt.CertificateTypeImported:
		// Imported: ImportedAt, no CreatedAt/IssuedAt (CertificateDetail).
		d.ImportedAt, d.NotBefore, d.NotAfter = aws.Time(ct.importedAt), aws.Time(ct.issuedAt), aws.Time(ct.notAfter)
		return &acm.DescribeCertificateOutput{Certificate: d}, nil
	case !ct.issuedAt.IsZero():
		d.IssuedAt, d.NotBefore, d.NotAfter = aws.Time(ct.issuedAt), aws.Time(ct.issuedAt), aws.Time(ct.notAfter)
	}
	d.CreatedAt = aws.Time(ct.requested)
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
		if ct.validationMethod == acmt.ValidationMethodEmail {
			base := strings.TrimPrefix(v.domain, "*.")
			o.ValidationEmails = []string{"admin@" + base, "administrator@" + base, "hostmaster@" + base, "postmaster@" + base, "webmaster@" + base}
		} else if showRecords {
			o.ResourceRecord = &acmt.ResourceRecord{Name: aws.String(v.name), Type: acmt.RecordTypeCname, Value: aws.String(v.value)}
		}
		d.DomainValidationOptions = append(d.DomainValidationOptions, o)
	}
	return &acm.DescribeCertificateOutput{Certificate: d}, nil
}

// ListCertificates filters by CertificateStatuses and Includes.KeyTypes
// (default RSA_1024 and RSA_2048 only), MaxItems (1-1000) per page from
// NextToken (ListCertificates reference).
func (s *acmSim) ListCertificates(_ context.Context, in *acm.ListCertificatesInput) (*acm.ListCertificatesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	keyTypes := []acmt.KeyAlgorithm{acmt.KeyAlgorithmRsa1024, acmt.KeyAlgorithmRsa2048}
	if in.Includes != nil && len(in.Includes.KeyTypes) > 0 {
		keyTypes = in.Includes.KeyTypes
	}
	limit := 1000
	if in.MaxItems != nil {
		if *in.MaxItems < 1 || *in.MaxItems > 1000 {
			return nil, apiError("ValidationException", "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *in.MaxItems)
		}
		limit = int(*in.MaxItems)
	}
	start := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "sim-"))
		if err != nil || !strings.HasPrefix(tok, "sim-") || n < 0 {
			return nil, apiError("InvalidArgsException", "The NextToken %q is not valid", tok)
		}
		start = n
	}
	var all []acmt.CertificateSummary
	for _, arn := range sortedKeys(s.certs) {
		ct := s.certs[arn]
		s.advance(ct)
		if len(in.CertificateStatuses) > 0 && !slices.Contains(in.CertificateStatuses, ct.status) {
			continue
		}
		if !slices.Contains(keyTypes, ct.keyAlgorithm) {
			continue
		}
		sum := acmt.CertificateSummary{CertificateArn: aws.String(arn), DomainName: aws.String(ct.domain), Status: ct.status,
			Type: ct.typ, KeyAlgorithm: ct.keyAlgorithm, InUse: aws.Bool(len(s.liveUsers(arn)) > 0),
			SubjectAlternativeNameSummaries: append([]string{ct.domain}, ct.sans...), HasAdditionalSubjectAlternativeNames: aws.Bool(false)}
		if ct.typ != acmt.CertificateTypeImported {
			sum.CreatedAt = aws.Time(ct.requested)
		} else {
			sum.ImportedAt = aws.Time(ct.importedAt)
		}
		if !ct.notAfter.IsZero() {
			sum.NotAfter, sum.NotBefore = aws.Time(ct.notAfter), aws.Time(ct.issuedAt)
		}
		all = append(all, sum)
	}
	out := &acm.ListCertificatesOutput{}
	if start < len(all) {
		end := start + limit
		if end < len(all) {
			out.NextToken = aws.String("sim-" + strconv.Itoa(end))
		} else {
			end = len(all)
		}
		out.CertificateSummaryList = all[start:end]
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
		return nil, apiError("ResourceInUseException", "Certificate %s in account %s is in use.", ct.arn, s.c.Account)
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
