package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// A certificate is issued only once its validation record is visible in a
// zone (the change INSYNC), and cannot be deleted while a listener uses it.
func TestACMValidationThroughRoute53(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	a := acm.NewFromConfig(cl.Config())
	r := route53.NewFromConfig(cl.Config())
	zone := c.CreateZone("example.com")

	req, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("board.example.com"),
		ValidationMethod: acmt.ValidationMethodDns, IdempotencyToken: aws.String("tok1"),
		Tags: []acmt.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("wbo")}}})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("board.example.com"), IdempotencyToken: aws.String("tok1")})
	if aws.ToString(again.CertificateArn) != aws.ToString(req.CertificateArn) {
		t.Fatal("same idempotency token, another certificate")
	}
	describe := func() *acmt.CertificateDetail {
		out, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: req.CertificateArn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Certificate
	}
	// (The record shows up ACMRecordDelay after the request: scaled, that
	// is too short to assert its absence without depending on scheduling.)
	if d := describe(); d.Status != acmt.CertificateStatusPendingValidation {
		t.Fatalf("right after the request: %s", d.Status)
	}
	var rec *acmt.ResourceRecord
	waitFor(t, "validation record shown", func() bool { rec = describe().DomainValidationOptions[0].ResourceRecord; return rec != nil })
	time.Sleep(c.wall(2 * ACMValidationDelay))
	if describe().Status != acmt.CertificateStatusPendingValidation {
		t.Fatal("issued without its validation record")
	}
	ch, err := r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53t.ChangeBatch{
		Changes: []r53t.Change{{Action: r53t.ChangeActionCreate, ResourceRecordSet: &r53t.ResourceRecordSet{Name: rec.Name, Type: r53t.RRTypeCname,
			TTL: aws.Int64(300), ResourceRecords: []r53t.ResourceRecord{{Value: rec.Value}}}}}}})
	if err != nil || ch.ChangeInfo.Status != r53t.ChangeStatusPending {
		t.Fatalf("change: %v %v", ch, err)
	}
	waitFor(t, "change INSYNC", func() bool {
		g, err := r.GetChange(ctx, &route53.GetChangeInput{Id: ch.ChangeInfo.Id})
		return err == nil && g.ChangeInfo.Status == r53t.ChangeStatusInsync
	})
	waitFor(t, "issued", func() bool { return describe().Status == acmt.CertificateStatusIssued })
	if d := describe(); d.NotAfter == nil || d.NotAfter.Sub(*d.IssuedAt) < 390*24*time.Hour {
		t.Fatalf("validity %v", d.NotAfter)
	}

	// The same CREATE again is refused, the batch is atomic, DELETE must match.
	dup := &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("/hostedzone/" + zone), ChangeBatch: &r53t.ChangeBatch{Changes: []r53t.Change{
		{Action: r53t.ChangeActionCreate, ResourceRecordSet: &r53t.ResourceRecordSet{Name: aws.String("other.example.com"), Type: r53t.RRTypeA, TTL: aws.Int64(60), ResourceRecords: []r53t.ResourceRecord{{Value: aws.String("192.0.2.1")}}}},
		{Action: r53t.ChangeActionCreate, ResourceRecordSet: &r53t.ResourceRecordSet{Name: rec.Name, Type: r53t.RRTypeCname, TTL: aws.Int64(300), ResourceRecords: []r53t.ResourceRecord{{Value: rec.Value}}}},
	}}}
	if _, err := r.ChangeResourceRecordSets(ctx, dup); errCode(err) != "InvalidChangeBatch" {
		t.Fatalf("duplicate create: %v", err)
	}
	list, _ := r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	for _, s := range list.ResourceRecordSets {
		if aws.ToString(s.Name) == "other.example.com." {
			t.Fatal("a failed batch applied part of its changes")
		}
	}
	del := &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53t.ChangeBatch{Changes: []r53t.Change{
		{Action: r53t.ChangeActionDelete, ResourceRecordSet: &r53t.ResourceRecordSet{Name: rec.Name, Type: r53t.RRTypeCname, TTL: aws.Int64(60), ResourceRecords: []r53t.ResourceRecord{{Value: rec.Value}}}}}}}
	if _, err := r.ChangeResourceRecordSets(ctx, del); errCode(err) != "InvalidChangeBatch" {
		t.Fatalf("delete with another TTL: %v", err)
	}
	if _, err := r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("ZNOPE"), ChangeBatch: del.ChangeBatch}); errCode(err) != "NoSuchHostedZone" {
		t.Fatalf("unknown zone: %v", err)
	}
	zs, _ := r.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("example.com")})
	if len(zs.HostedZones) != 1 || aws.ToString(zs.HostedZones[0].Name) != "example.com." {
		t.Fatalf("zones %+v", zs.HostedZones)
	}

	// In use by a listener: not deletable.
	c.lock()
	c.elbv2().listeners["l1"] = &elbListener{arn: "l1", lb: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/wbo-alb/1", port: 443, certs: []string{aws.ToString(req.CertificateArn)}}
	c.unlock()
	if _, err := a.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: req.CertificateArn}); errCode(err) != "ResourceInUseException" {
		t.Fatalf("delete in use: %v", err)
	}
	if d := describe(); len(d.InUseBy) != 1 {
		t.Fatalf("InUseBy %v", d.InUseBy)
	}
	c.lock()
	delete(c.elbv2().listeners, "l1")
	c.unlock()
	if _, err := a.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: req.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: req.CertificateArn}); errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("after delete: %v", err)
	}
}

// Without a zone of the account (DNS elsewhere) the certificate stays
// pending, and times out after 72 hours.
func TestACMPendingWithoutZoneTimesOut(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	a := acm.NewFromConfig(cl.Config())
	req, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("board.example.org"), ValidationMethod: acmt.ValidationMethodDns})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(c.wall(10 * time.Minute))
	out, _ := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: req.CertificateArn})
	if out.Certificate.Status != acmt.CertificateStatusPendingValidation {
		t.Fatalf("status %s", out.Certificate.Status)
	}
	c.lock()
	c.acm().certs[aws.ToString(req.CertificateArn)].requested = time.Now().Add(-c.wall(ACMValidationLimit + time.Minute))
	c.unlock()
	out, _ = a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: req.CertificateArn})
	if out.Certificate.Status != acmt.CertificateStatusValidationTimedOut {
		t.Fatalf("after 72 hours: %s", out.Certificate.Status)
	}
}
