package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// The certificate of domain.name: an ACM public certificate with DNS
// validation, in two nodes, as Terraform splits aws_acm_certificate and
// aws_acm_certificate_validation:
//
//   - "certificate-<domain>" (certificateKind) requests it and waits until
//     ACM shows the validation record (a few seconds after the request:
//     DescribeCertificate's DomainValidationOptions have no ResourceRecord
//     before that; terraform-provider-aws retries for it);
//   - "certificate-issued-<domain>" (certificateIssuedKind) waits until ACM
//     has issued it, once the validation record resolves (dnsrecord.go
//     writes it in Route 53; with DNS elsewhere the user does). The HTTPS
//     listener depends on it: a listener cannot use a certificate that is
//     not issued.
//
// The domain is part of the node names, so a new domain.name is a new
// certificate: it is requested and issued while the listener still serves
// the old one, the listener then switches (listener.go), and the old
// certificate, no longer in the configuration, is deleted last by the
// engine's removal of what the configuration no longer has.

func init() {
	Register(certificateKind{})
	Register(certificateIssuedKind{})
}

// CertificateNode, CertificateIssuedNode, DNSValidationNode and DNSAliasNode
// name the nodes of domain d.
func CertificateNode(d string) string       { return "certificate-" + d }
func CertificateIssuedNode(d string) string { return "certificate-issued-" + d }
func DNSValidationNode(d string) string     { return "dns-validation-" + d }
func DNSAliasNode(d string) string          { return "dns-alias-" + d }

// Waits (AWS time).
const (
	// certRecordTimeout bounds the wait for the validation record after the
	// request (seconds, in practice).
	certRecordTimeout = 5 * time.Minute
	// certIssueTimeout bounds the wait for ISSUED once the record is in
	// Route 53: ACM usually validates within minutes of the record
	// resolving; Terraform's aws_acm_certificate_validation gives up after
	// 75 minutes (its default create timeout).
	certIssueTimeout = 75 * time.Minute
	// With DNS elsewhere, up looks for 3 minutes (certExternalChecks, every
	// certExternalEvery: ACM usually validates within minutes once the
	// record resolves, so a record created just before up is seen) and then
	// says which records to create, instead of waiting for a person to act.
	certExternalChecks = 13
	certExternalEvery  = 15 * time.Second
	certPollMin        = 10 * time.Second
	certPollMax        = 30 * time.Second
)

// Certificate statuses after which a certificate is never issued (ACM API
// reference, CertificateStatus): up requests a new one.
var deadCertificate = map[acmt.CertificateStatus]bool{
	acmt.CertificateStatusValidationTimedOut: true, acmt.CertificateStatusFailed: true,
	acmt.CertificateStatusRevoked: true, acmt.CertificateStatusExpired: true, acmt.CertificateStatusInactive: true,
}

// certDomain is the domain of a certificate node: its Role in the graph, or
// the recorded domain for a node no longer in the configuration.
func certDomain(n *Node, rec *state.Resource) string {
	if n.Role != "" {
		return n.Role
	}
	if rec != nil {
		return rec.Attrs["domain"]
	}
	return ""
}

// describeCertificate returns the certificate, or nil when it does not exist.
func describeCertificate(ctx context.Context, env *Env, arn string) (*acmt.CertificateDetail, error) {
	out, err := env.AWS.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if awserr.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe certificate %s: %w", arn, err)
	}
	return out.Certificate, nil
}

// validationRecord is the CNAME that proves control of the domain, once ACM
// shows it.
func validationRecord(d *acmt.CertificateDetail) (name, value string, ok bool) {
	for _, o := range d.DomainValidationOptions {
		if rr := o.ResourceRecord; rr != nil && aws.ToString(rr.Name) != "" {
			return aws.ToString(rr.Name), aws.ToString(rr.Value), true
		}
	}
	return "", "", false
}

// failureReason says why a certificate will not be issued.
func failureReason(d *acmt.CertificateDetail) string {
	why := string(d.Status)
	if d.FailureReason != "" {
		why += " (" + string(d.FailureReason) + ")"
	}
	if d.Status == acmt.CertificateStatusValidationTimedOut {
		why += ": the validation record did not resolve within 72 hours of the request"
	}
	return why
}

// ---- acm.certificate ---------------------------------------------------------

type certificateKind struct{}

func (certificateKind) Type() string { return "acm.certificate" }

func (k certificateKind) observe(n *Node, domain string, d *acmt.CertificateDetail) *Observed {
	arn := aws.ToString(d.CertificateArn)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	rec.Attrs["domain"] = domain
	if name, value, ok := validationRecord(d); ok {
		rec.Attrs["validation_name"], rec.Attrs["validation_value"] = name, value
	}
	st := string(d.Status)
	obs := &Observed{Rec: rec, State: st, Raw: d, Info: map[string]string{"certificate": domain + " " + st}}
	if d.NotAfter != nil {
		obs.Info["expires"] = d.NotAfter.UTC().Format("2006-01-02")
	}
	if deadCertificate[d.Status] {
		obs.Health = &Health{OK: false, Reason: failureReason(d) + "; up requests a new certificate"}
	}
	return obs
}

func (k certificateKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	domain := certDomain(n, rec)
	if rec != nil && rec.ID != "" {
		d, err := describeCertificate(ctx, env, rec.ID)
		if err != nil {
			return nil, err
		}
		if d != nil {
			if deadCertificate[d.Status] && n.Role != "" {
				return nil, nil // Create replaces it
			}
			return k.observe(n, domain, d), nil
		}
	}
	// Adoption: the stack's certificate for this domain, by its tags.
	arns, err := stackCertificates(ctx, env, []acmt.CertificateStatus{acmt.CertificateStatusPendingValidation, acmt.CertificateStatusIssued},
		func(arn, d string, tags map[string]string) bool { return d == domain && tags[TagResource] == n.Name })
	if err != nil || len(arns) == 0 {
		return nil, err
	}
	d, err := describeCertificate(ctx, env, arns[0])
	if err != nil || d == nil {
		return nil, err
	}
	return k.observe(n, domain, d), nil
}

// stackCertificates lists the ARNs of the stack's certificates (by the stack
// tag) in the given statuses (nil: any) that keep accepts.
func stackCertificates(ctx context.Context, env *Env, statuses []acmt.CertificateStatus, keep func(arn, domain string, tags map[string]string) bool) ([]string, error) {
	in := &acm.ListCertificatesInput{CertificateStatuses: statuses}
	var out []string
	p := acm.NewListCertificatesPaginator(env.AWS.ACM, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list certificates: %w", err)
		}
		for _, c := range page.CertificateSummaryList {
			arn := aws.ToString(c.CertificateArn)
			tl, err := env.AWS.ACM.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: c.CertificateArn})
			if awserr.IsNotFound(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("list tags of certificate %s: %w", arn, err)
			}
			tags := map[string]string{}
			for _, t := range tl.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if tags[TagStack] == env.Stack() && keep(arn, strings.ToLower(aws.ToString(c.DomainName)), tags) {
				out = append(out, arn)
			}
		}
	}
	return out, nil
}

// certToken is RequestCertificate's IdempotencyToken: a retried request (a
// lost answer, a re-run after a crash) within the hour returns the same
// certificate instead of a second one (ACM API reference,
// RequestCertificate, IdempotencyToken: "\w+", at most 32 characters). A
// request replacing a dead certificate uses another token.
func certToken(env *Env, domain, replaces string) string {
	h := sha256.Sum256([]byte(env.Stack() + "\x00" + env.Region() + "\x00" + domain + "\x00" + replaces))
	return hex.EncodeToString(h[:16])
}

func (k certificateKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	domain := n.Role
	// A recorded certificate that can no longer be issued goes first (it
	// cannot be on a listener: it was never issued, or has expired).
	replaces := ""
	if env.store != nil {
		if old, ok := env.store.Get(n.Name); ok && old.ID != "" {
			replaces = old.ID
			if _, err := env.AWS.ACM.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(old.ID)}); err != nil && !awserr.IsNotFound(err) {
				return nil, fmt.Errorf("delete certificate %s, which can no longer be issued: %w", old.ID, err)
			}
		}
	}
	var tags []acmt.Tag
	for _, kv := range env.SortedTags(n.Name) {
		tags = append(tags, acmt.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	out, err := env.AWS.ACM.RequestCertificate(ctx, &acm.RequestCertificateInput{
		DomainName: aws.String(domain), ValidationMethod: acmt.ValidationMethodDns,
		KeyAlgorithm: acmt.KeyAlgorithmRsa2048, IdempotencyToken: aws.String(certToken(env, domain, replaces)), Tags: tags,
	})
	if err != nil {
		return nil, fmt.Errorf("request certificate for %s: %w", domain, err)
	}
	arn := aws.ToString(out.CertificateArn)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	rec.Attrs["domain"] = domain
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	// The validation record appears a few seconds after the request; a new
	// certificate can also be missing from DescribeCertificate at first.
	var obs *Observed
	misses := 0
	err = env.Clock.Poll(ctx, certRecordTimeout, time.Second, 5*time.Second, pollProgress(env, n.Name, ""), func(ctx context.Context) (bool, string, error) {
		d, err := describeCertificate(ctx, env, arn)
		if err != nil {
			return false, "", err
		}
		if d == nil {
			if misses++; misses > maxNewMisses {
				return false, "", fmt.Errorf("certificate %s disappeared right after it was requested", arn)
			}
			return false, "waiting for the new certificate to be visible (AWS is eventually consistent)", nil
		}
		if deadCertificate[d.Status] {
			return false, "", fmt.Errorf("certificate %s for %s: %s", arn, domain, failureReason(d))
		}
		if _, _, ok := validationRecord(d); !ok && d.Status == acmt.CertificateStatusPendingValidation {
			return false, "waiting for ACM to publish the DNS validation record", nil
		}
		obs = k.observe(n, domain, d)
		return true, "", nil
	})
	if err != nil {
		return nil, err
	}
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (certificateKind) Diff(*Env, *Node, *Observed) []Change { return nil }

func (certificateKind) Update(context.Context, *Env, *Node, *Observed, []Change) error { return nil }

// Delete deletes the certificate. While a listener still uses it (and for a
// while after the listener is gone) ACM answers ResourceInUseException,
// which the engine retries.
func (certificateKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.ACM.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete certificate %s: %w", rec.ID, err)
	}
	return nil
}

// Discover finds the stack's certificates, in any status, by the stack tag.
func (k certificateKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	names := map[string]string{}
	arns, err := stackCertificates(ctx, env, nil, func(arn, d string, tags map[string]string) bool {
		names[arn] = tags[TagResource]
		return strings.HasPrefix(tags[TagResource], "certificate-")
	})
	if err != nil {
		return nil, err
	}
	for _, arn := range arns {
		out = append(out, state.Resource{Name: names[arn], Kind: k.Type(), ID: arn, ARN: arn,
			Attrs: map[string]string{"domain": strings.TrimPrefix(names[arn], "certificate-")}})
	}
	return out, nil
}

func (certificateKind) PlanNote(env *Env, n *Node) string {
	return "ACM public certificate for " + n.Role + " (DNS validation, free); issued before the HTTPS listener uses it"
}

// OrphanNote: a certificate of an earlier domain.name.
func (certificateKind) OrphanNote(rec state.Resource) string {
	return "after the HTTPS listener has switched to the new certificate"
}

// ---- acm.certificate-validation ---------------------------------------------

// certificateIssuedKind waits until the certificate is issued. It makes no
// resource of its own: its ID is the certificate's ARN, which the HTTPS
// listener takes from it. Find reports a pending certificate (Pending, with
// what is awaited, for status); Diff asks for ISSUED and Update waits.
type certificateIssuedKind struct{}

func (certificateIssuedKind) Type() string { return "acm.certificate-validation" }

// certOf is the certificate node a validation node depends on.
func certOf(n *Node) string {
	for _, d := range n.Deps {
		if strings.HasPrefix(d, "certificate-") {
			return d
		}
	}
	return ""
}

// externalDNS reports whether the records of the domain are made by hand
// (no Route 53 zone holds it), from the zone node.
func externalDNS(env *Env) bool {
	z, err := env.Ref(dnsZoneNode)
	return err == nil && z.ID == zoneExternal
}

// neededRecords are the records the user creates at their DNS provider.
func neededRecords(env *Env, n *Node, domain string) []DNSRecord {
	var out []DNSRecord
	if c, err := env.Ref(certOf(n)); err == nil && c.Attrs["validation_name"] != "" {
		out = append(out, DNSRecord{Name: c.Attrs["validation_name"], Type: "CNAME", Value: c.Attrs["validation_value"],
			Why: "proves to ACM that you control " + domain + "; keep it: ACM renews the certificate with it"})
	}
	if lb, err := env.Ref("alb"); err == nil && lb.Attrs["dns_name"] != "" {
		out = append(out, DNSRecord{Name: fqdnOf(domain), Type: "CNAME", Value: fqdnOf(lb.Attrs["dns_name"]),
			Why: "points " + domain + " at the load balancer (at a zone apex, use your provider's ALIAS or ANAME record)"})
	}
	return out
}

func (k certificateIssuedKind) observe(env *Env, n *Node, domain string, d *acmt.CertificateDetail) *Observed {
	arn := aws.ToString(d.CertificateArn)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	rec.Attrs["domain"] = domain
	rec.Attrs["status"] = string(d.Status)
	obs := &Observed{Rec: rec, State: string(d.Status), Raw: d, Info: map[string]string{"certificate": domain + " " + string(d.Status)}}
	switch {
	case d.Status == acmt.CertificateStatusIssued:
		if d.NotAfter != nil {
			obs.Info["expires"] = d.NotAfter.UTC().Format("2006-01-02")
		}
	case d.Status == acmt.CertificateStatusPendingValidation:
		obs.Pending = true
		if externalDNS(env) {
			var parts []string
			for _, r := range neededRecords(env, n, domain) {
				parts = append(parts, r.String())
			}
			obs.State = "waiting for DNS validation: create at your DNS provider " + strings.Join(parts, "; ") + ", then run wbo-deploy up"
		} else {
			obs.State = "waiting for ACM to validate " + domain + " through the record in Route 53"
		}
	default:
		obs.Health = &Health{OK: false, Reason: failureReason(d) + "; up requests a new certificate"}
	}
	return obs
}

func (k certificateIssuedKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	arn := ""
	if c, err := env.Ref(certOf(n)); err == nil {
		arn = c.ID
	} else if rec != nil {
		arn = rec.ID
	}
	if arn == "" {
		return nil, nil
	}
	d, err := describeCertificate(ctx, env, arn)
	if err != nil || d == nil {
		return nil, err
	}
	if rec == nil && d.Status == acmt.CertificateStatusPendingValidation {
		// Never waited for: up "creates" it (waits), and a plan says so.
		return nil, nil
	}
	return k.observe(env, n, certDomain(n, rec), d), nil
}

func (k certificateIssuedKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	arn, err := env.RefID(certOf(n))
	if err != nil {
		return nil, err
	}
	// Recorded before the wait: status then says what is awaited, and a
	// later up waits again (Diff, Update).
	rec := NewRecord(n, arn)
	rec.ARN = arn
	rec.Attrs["domain"] = n.Role
	rec.Attrs["status"] = string(acmt.CertificateStatusPendingValidation)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	return k.wait(ctx, env, n, arn)
}

func (certificateIssuedKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	if st := obs.Rec.Attrs["status"]; st != string(acmt.CertificateStatusIssued) {
		return []Change{{Field: "status", Old: st, New: string(acmt.CertificateStatusIssued)}}
	}
	return nil
}

func (k certificateIssuedKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, _ []Change) error {
	fresh, err := k.wait(ctx, env, n, obs.Rec.ID)
	if err != nil {
		return err
	}
	obs.Rec, obs.State, obs.Pending, obs.Info, obs.Raw = fresh.Rec, fresh.State, fresh.Pending, fresh.Info, fresh.Raw
	return nil
}

// wait polls until the certificate is issued. With the records in Route 53
// it waits up to certIssueTimeout; with DNS elsewhere it looks a few times
// and then returns a *DNSRecordsNeeded naming the records to create.
func (k certificateIssuedKind) wait(ctx context.Context, env *Env, n *Node, arn string) (*Observed, error) {
	domain := n.Role
	var last *acmt.CertificateDetail
	check := func(ctx context.Context) (bool, string, error) {
		d, err := describeCertificate(ctx, env, arn)
		if err != nil {
			return false, "", err
		}
		if d == nil {
			return false, "", fmt.Errorf("certificate %s for %s no longer exists: run up again to request a new one", arn, domain)
		}
		last = d
		switch {
		case d.Status == acmt.CertificateStatusIssued:
			return true, "", nil
		case deadCertificate[d.Status]:
			return false, "", fmt.Errorf("certificate %s for %s will not be issued: %s; run up again to request a new one", arn, domain, failureReason(d))
		}
		return false, fmt.Sprintf("waiting for ACM to validate %s (%s)", domain, d.Status), nil
	}
	if externalDNS(env) {
		for i := 0; ; i++ {
			done, status, err := check(ctx)
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			if i+1 >= certExternalChecks {
				return nil, &DNSRecordsNeeded{Domain: domain, Records: neededRecords(env, n, domain)}
			}
			env.Progress(n.Name, status+": the records are at your DNS provider", time.Duration(i+1)*certExternalEvery)
			if err := env.Clock.Sleep(ctx, certExternalEvery); err != nil {
				return nil, err
			}
		}
	} else {
		err := env.Clock.Poll(ctx, certIssueTimeout, certPollMin, certPollMax, pollProgress(env, n.Name, ""), check)
		var te *TimeoutError
		if errors.As(err, &te) {
			name, value := "", ""
			if last != nil {
				name, value, _ = validationRecord(last)
			}
			return nil, fmt.Errorf("ACM has not validated %s after %s: check that %s resolves to %s (dig +short CNAME %s); up continues waiting when run again: %w",
				domain, certIssueTimeout, name, value, name, err)
		}
		if err != nil {
			return nil, err
		}
	}
	return k.observe(env, n, domain, last), nil
}

// Delete: nothing of its own (the certificate node deletes the certificate).
func (certificateIssuedKind) Delete(context.Context, *Env, state.Resource) error { return nil }

func (certificateIssuedKind) PlanNote(env *Env, n *Node) string {
	return "waits for ACM to issue the certificate of " + n.Role + " (minutes once the validation record resolves)"
}

// DNSRecord is a record the user creates at their DNS provider.
type DNSRecord struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
	Why   string `json:"why"`
}

func (r DNSRecord) String() string { return r.Name + " " + r.Type + " " + r.Value }

// DNSRecordsNeeded says that the certificate waits for records only the
// user can create (no Route 53 zone holds the domain). up shows them, and a
// later up finishes once they resolve.
type DNSRecordsNeeded struct {
	Domain  string
	Records []DNSRecord
}

func (e *DNSRecordsNeeded) Error() string {
	var parts []string
	for _, r := range e.Records {
		parts = append(parts, r.String())
	}
	return fmt.Sprintf("the certificate for %s waits for DNS validation: no Route 53 zone of this account holds %s; create at your DNS provider %s, then run `wbo-deploy up` again",
		e.Domain, e.Domain, strings.Join(parts, "; "))
}

// DomainRecords are the DNS records domain.name needs, as known from the
// run's records (the certificate's validation CNAME, the name's CNAME to the
// load balancer), and whether Route 53 holds them (false: the user creates
// them at their DNS provider).
func DomainRecords(env *Env) (records []DNSRecord, inRoute53 bool) {
	d := env.Cfg.DomainName()
	if d == "" {
		return nil, false
	}
	n := &Node{Name: CertificateIssuedNode(d), Deps: []string{CertificateNode(d)}}
	return neededRecords(env, n, d), !externalDNS(env)
}

// fqdnOf adds the trailing dot DNS records are written with.
func fqdnOf(name string) string {
	if strings.HasSuffix(name, ".") {
		return strings.ToLower(name)
	}
	return strings.ToLower(name) + "."
}
