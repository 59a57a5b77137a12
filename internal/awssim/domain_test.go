package awssim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// virtualClock is a Cloud.clock a test moves by hand.
type virtualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (v *virtualClock) now() time.Time { v.mu.Lock(); defer v.mu.Unlock(); return v.t }
func (v *virtualClock) add(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.t = v.t.Add(d)
}

// virtualCloud is an account on a hand-moved clock at scale 1 (AWS time is
// the clock's time), without throttling or consistency windows.
func virtualCloud(t *testing.T) (*Cloud, *awsclients.Clients, *virtualClock) {
	t.Helper()
	c := New(Options{Scale: 1, ConsistencyMisses: -1, NoThrottling: true})
	vc := &virtualClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.clock = vc.now
	return c, clientsAs(t, c, "AKIDSIMULATED"), vc
}

func r53Set(name string, typ r53t.RRType, ttl int64, values ...string) *r53t.ResourceRecordSet {
	s := &r53t.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		s.ResourceRecords = append(s.ResourceRecords, r53t.ResourceRecord{Value: aws.String(v)})
	}
	return s
}

func change(a r53t.ChangeAction, set *r53t.ResourceRecordSet) r53t.Change {
	return r53t.Change{Action: a, ResourceRecordSet: set}
}

func changeRecords(ctx context.Context, r *route53.Client, zone string, chs ...r53t.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
	return r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53t.ChangeBatch{Changes: chs}})
}

// ACM, Route 53, Secrets Manager and SSM read the Cloud's clock: on a
// virtual clock the validation record, the change's propagation and the
// issue happen exactly when the clock passes their delays, and the
// timestamps they report are the clock's.
func TestDomainServicesFollowTheCloudClock(t *testing.T) {
	c, cl, vc := virtualCloud(t)
	ctx := context.Background()
	a := acm.NewFromConfig(cl.Config())
	r := route53.NewFromConfig(cl.Config())
	zone := c.CreateZone("example.com")
	start := vc.now()
	req, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("board.example.com"), ValidationMethod: acmt.ValidationMethodDns})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() *acmt.CertificateDetail {
		out, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: req.CertificateArn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Certificate
	}
	if d := describe(); d.DomainValidationOptions[0].ResourceRecord != nil || !d.CreatedAt.Equal(start) {
		t.Fatalf("at once: record %+v, CreatedAt %v (clock %v)", d.DomainValidationOptions[0].ResourceRecord, d.CreatedAt, start)
	}
	vc.add(ACMRecordDelay - time.Second)
	if describe().DomainValidationOptions[0].ResourceRecord != nil {
		t.Fatal("the validation record shows before ACMRecordDelay")
	}
	vc.add(time.Second)
	rec := describe().DomainValidationOptions[0].ResourceRecord
	if rec == nil {
		t.Fatal("no validation record after ACMRecordDelay")
	}
	ch, err := changeRecords(ctx, r, zone, change(r53t.ChangeActionCreate, r53Set(aws.ToString(rec.Name), r53t.RRTypeCname, 300, aws.ToString(rec.Value))))
	if err != nil {
		t.Fatal(err)
	}
	if !ch.ChangeInfo.SubmittedAt.Equal(vc.now()) {
		t.Errorf("SubmittedAt %v, clock %v", ch.ChangeInfo.SubmittedAt, vc.now())
	}
	status := func() r53t.ChangeStatus {
		g, err := r.GetChange(ctx, &route53.GetChangeInput{Id: ch.ChangeInfo.Id})
		if err != nil {
			t.Fatal(err)
		}
		return g.ChangeInfo.Status
	}
	vc.add(Route53Propagation - time.Second)
	if status() != r53t.ChangeStatusPending || describe().Status != acmt.CertificateStatusPendingValidation {
		t.Fatal("INSYNC before Route53Propagation")
	}
	vc.add(2 * time.Second)
	if status() != r53t.ChangeStatusInsync {
		t.Fatal("still PENDING after Route53Propagation")
	}
	describe() // ACM sees the record now; it issues ACMValidationDelay later
	vc.add(ACMValidationDelay - time.Second)
	if describe().Status != acmt.CertificateStatusPendingValidation {
		t.Fatal("issued before ACMValidationDelay")
	}
	vc.add(2 * time.Second)
	d := describe()
	if d.Status != acmt.CertificateStatusIssued || !d.IssuedAt.Equal(vc.now()) || !d.NotAfter.Equal(vc.now().Add(395*24*time.Hour)) {
		t.Fatalf("after the validation delay: %s issued %v not after %v (clock %v)", d.Status, d.IssuedAt, d.NotAfter, vc.now())
	}
	// 72 hours without validation: timed out, on the same clock.
	other, _ := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("nowhere.example.net"), ValidationMethod: acmt.ValidationMethodDns})
	vc.add(ACMValidationLimit + time.Second)
	o, _ := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: other.CertificateArn})
	if o.Certificate.Status != acmt.CertificateStatusValidationTimedOut {
		t.Fatalf("after 72 hours: %s", o.Certificate.Status)
	}
	// SSM reports the clock's time.
	sm := ssm.NewFromConfig(cl.Config())
	if _, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/p"), Value: aws.String("v"), Type: "String"}); err != nil {
		t.Fatal(err)
	}
	p, err := sm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
	if err != nil || !p.Parameter.LastModifiedDate.Equal(vc.now()) {
		t.Fatalf("SSM LastModifiedDate %v, clock %v (%v)", p.Parameter.LastModifiedDate, vc.now(), err)
	}
}

// Route 53 refuses what AWS refuses, with AWS's codes and messages.
func TestRoute53ChangeBatchStrictness(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lb := e.lb("web")
	dns := aws.ToString(lb.DNSName)
	if z := aws.ToString(lb.CanonicalHostedZoneId); z != "Z35SXDOTRQ7X7K" {
		t.Fatalf("CanonicalHostedZoneId %s, want us-east-1's Z35SXDOTRQ7X7K", z)
	}
	r := route53.NewFromConfig(e.cl.Config())
	alias := func(name, target, zone string) *r53t.ResourceRecordSet {
		return &r53t.ResourceRecordSet{Name: aws.String(name), Type: r53t.RRTypeA,
			AliasTarget: &r53t.AliasTarget{DNSName: aws.String(target), HostedZoneId: aws.String(zone), EvaluateTargetHealth: true}}
	}
	long := strings.Repeat("x", 256)
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("192.0.2.%d", i%250)
	}
	cases := []struct {
		name         string
		setup, batch []r53t.Change
		code, msg    string // "" = accepted
	}{
		{name: "alias to the load balancer", batch: []r53t.Change{change(r53t.ChangeActionCreate, alias("board.example.com", dns, "Z35SXDOTRQ7X7K"))}},
		{name: "alias with dualstack and capitals", batch: []r53t.Change{change(r53t.ChangeActionUpsert, alias("board.example.com.", "dualstack."+strings.ToUpper(dns), "Z35SXDOTRQ7X7K"))}},
		{name: "alias with the domain's zone ID", batch: []r53t.Change{change(r53t.ChangeActionCreate, alias("board.example.com", dns, "ZONE"))},
			code: "InvalidChangeBatch", msg: "Tried to create an alias that targets " + dns + "., type A in zone ZONE, but the alias target name does not lie within the target zone"},
		{name: "alias with another region's ELB zone", batch: []r53t.Change{change(r53t.ChangeActionCreate, alias("board.example.com", dns, "Z32O12XQLNTSW2"))},
			code: "InvalidChangeBatch", msg: "does not lie within the target zone"},
		{name: "alias to no load balancer", batch: []r53t.Change{change(r53t.ChangeActionCreate, alias("board.example.com", "gone-1.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K"))},
			code: "InvalidChangeBatch", msg: "Tried to create an alias that targets gone-1.us-east-1.elb.amazonaws.com., type A in zone Z35SXDOTRQ7X7K, but that target was not found"},
		{name: "alias with a TTL", batch: []r53t.Change{change(r53t.ChangeActionCreate, func() *r53t.ResourceRecordSet {
			s := alias("board.example.com", dns, "Z35SXDOTRQ7X7K")
			s.TTL = aws.Int64(60)
			return s
		}())}, code: "InvalidInput", msg: "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=CREATE, Name=board.example.com, Type=A, SetIdentifier=null]"},
		{name: "record without a TTL", batch: []r53t.Change{change(r53t.ChangeActionCreate, &r53t.ResourceRecordSet{Name: aws.String("a.example.com"), Type: r53t.RRTypeA,
			ResourceRecords: []r53t.ResourceRecord{{Value: aws.String("192.0.2.1")}}})}, code: "InvalidInput", msg: "but found none in Change with [Action=CREATE, Name=a.example.com, Type=A"},
		{name: "CNAME at the apex", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("example.com", r53t.RRTypeCname, 300, dns))},
			code: "InvalidChangeBatch", msg: "RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com."},
		{name: "CNAME beside an A record", setup: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("www.example.com", r53t.RRTypeA, 60, "192.0.2.1"))},
			batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("WWW.example.com.", r53t.RRTypeCname, 300, dns))},
			code:  "InvalidChangeBatch", msg: "RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
		{name: "TXT beside a CNAME", setup: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("www.example.com", r53t.RRTypeCname, 300, dns))},
			batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("www.example.com", r53t.RRTypeTxt, 300, `"v=1"`))},
			code:  "InvalidChangeBatch", msg: "RRSet of type TXT with DNS name www.example.com. is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone example.com."},
		{name: "A replaced by a CNAME in one batch", setup: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("www.example.com", r53t.RRTypeA, 60, "192.0.2.1"))},
			batch: []r53t.Change{change(r53t.ChangeActionDelete, r53Set("www.example.com.", r53t.RRTypeA, 60, "192.0.2.1")),
				change(r53t.ChangeActionCreate, r53Set("www.example.com", r53t.RRTypeCname, 300, dns))}},
		{name: "TXT unquoted with a space", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("t.example.com", r53t.RRTypeTxt, 300, "v=spf1 -all"))},
			code: "InvalidChangeBatch", msg: "InvalidCharacterString (Value should be enclosed in quotation marks)"},
		{name: "TXT quoted", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("t.example.com", r53t.RRTypeTxt, 300, `"v=spf1 -all"`, `"a" "b c"`))}},
		{name: "TXT one unquoted word", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("t.example.com", r53t.RRTypeTxt, 300, "token123"))}},
		{name: "TXT string too long", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("t.example.com", r53t.RRTypeTxt, 300, `"`+long+`"`))},
			code: "InvalidChangeBatch", msg: "CharacterStringTooLong (Value is too long)"},
		{name: "trailing dot or not, the same name", setup: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("x.example.com.", r53t.RRTypeA, 60, "192.0.2.1"))},
			batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("X.example.com", r53t.RRTypeA, 60, "192.0.2.2"))},
			code:  "InvalidChangeBatch", msg: "Tried to create resource record set [name='x.example.com.', type='A'] but it already exists"},
		{name: "more than 1000 records", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("m.example.com", r53t.RRTypeA, 60, many...))},
			code: "InvalidChangeBatch", msg: "limit of 1000"},
		{name: "name outside the zone", batch: []r53t.Change{change(r53t.ChangeActionCreate, r53Set("a.example.org", r53t.RRTypeA, 60, "192.0.2.1"))},
			code: "InvalidChangeBatch", msg: "RRSet with DNS name a.example.org. is not permitted in zone example.com."},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			zone := e.c.CreateZone("example.com")
			if len(k.setup) > 0 {
				if _, err := changeRecords(ctx, r, zone, k.setup...); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			before, _ := r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
			_, err := changeRecords(ctx, r, zone, k.batch...)
			if k.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae smithy.APIError
			if errCode(err) != k.code || !asAPIError(err, &ae) || !strings.Contains(ae.ErrorMessage(), k.msg) {
				t.Fatalf("got %v\nwant %s containing %q", err, k.code, k.msg)
			}
			after, _ := r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
			if len(after.ResourceRecordSets) != len(before.ResourceRecordSets) {
				t.Fatal("a refused batch changed the zone")
			}
		})
	}
}

func asAPIError(err error, ae *smithy.APIError) bool {
	for err != nil {
		if x, ok := err.(smithy.APIError); ok {
			*ae = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// DNS elsewhere: a validation CNAME published at another provider validates
// the certificate; one with another value does not; nor a removed one.
func TestACMValidatesThroughExternalDNS(t *testing.T) {
	c, cl, vc := virtualCloud(t)
	ctx := context.Background()
	a := acm.NewFromConfig(cl.Config())
	req := func(domain string) (string, *acmt.ResourceRecord) {
		out, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String(domain), ValidationMethod: acmt.ValidationMethodDns})
		if err != nil {
			t.Fatal(err)
		}
		vc.add(ACMRecordDelay)
		d, _ := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: out.CertificateArn})
		return aws.ToString(out.CertificateArn), d.Certificate.DomainValidationOptions[0].ResourceRecord
	}
	status := func(arn string) acmt.CertificateStatus {
		d, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return d.Certificate.Status
	}
	good, rec := req("board.example.org")
	wrong, wrec := req("wiki.example.org")
	gone, grec := req("old.example.org")
	c.PublishExternalDNS(strings.ToUpper(strings.TrimSuffix(aws.ToString(rec.Name), ".")), "cname", aws.ToString(rec.Value))
	c.PublishExternalDNS(aws.ToString(wrec.Name), "CNAME", "_other.acm-validations.aws.")
	c.PublishExternalDNS(aws.ToString(grec.Name), "CNAME", aws.ToString(grec.Value))
	c.RemoveExternalDNS(aws.ToString(grec.Name), "CNAME")
	status(good)
	status(wrong)
	status(gone)
	vc.add(ACMValidationDelay + time.Second)
	if s := status(good); s != acmt.CertificateStatusIssued {
		t.Fatalf("with the external record: %s", s)
	}
	for _, arn := range []string{wrong, gone} {
		if s := status(arn); s != acmt.CertificateStatusPendingValidation {
			t.Fatalf("without a matching record: %s", s)
		}
	}
	// A second certificate for the same name gets the same record, which
	// is still published: it is validated too.
	again, arec := req("board.example.org")
	if aws.ToString(arec.Name) != aws.ToString(rec.Name) || aws.ToString(arec.Value) != aws.ToString(rec.Value) {
		t.Fatalf("another record for the same name: %+v, first %+v", arec, rec)
	}
	status(again)
	vc.add(ACMValidationDelay + time.Second)
	if s := status(again); s != acmt.CertificateStatusIssued {
		t.Fatalf("the second certificate: %s", s)
	}
	// A pending certificate keeps showing its record.
	d, _ := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(wrong)})
	if d.Certificate.DomainValidationOptions[0].ResourceRecord == nil {
		t.Fatal("a pending certificate lost its validation record")
	}
	// No ValidationMethod: email validation, no DNS record to publish.
	mail, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("mail.example.org")})
	if err != nil {
		t.Fatal(err)
	}
	vc.add(ACMRecordDelay + ACMValidationDelay)
	d, _ = a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: mail.CertificateArn})
	if o := d.Certificate.DomainValidationOptions[0]; o.ValidationMethod != acmt.ValidationMethodEmail || o.ResourceRecord != nil ||
		len(o.ValidationEmails) == 0 || d.Certificate.Status != acmt.CertificateStatusPendingValidation {
		t.Fatalf("email validation: %+v %s", o, d.Certificate.Status)
	}
}

// Listeners take only ACM certificates that exist and are ISSUED; IAM
// server certificates are taken as given.
func TestListenerCertificateMustExistAndBeIssued(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg := e.tg("t")
	a := acm.NewFromConfig(e.cl.Config())
	pending, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("board.example.com"), ValidationMethod: acmt.ValidationMethodDns})
	if err != nil {
		t.Fatal(err)
	}
	issued := e.c.ImportCertificate("board.example.com", time.Now().Add(90*24*time.Hour))
	create := func(port int32, cert string) (string, error) {
		out, err := e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(port),
			Protocol: lbt.ProtocolEnumHttps, DefaultActions: forward(tg), Certificates: []lbt.Certificate{{CertificateArn: aws.String(cert)}}})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Listeners[0].ListenerArn), nil
	}
	unknown := "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
	for _, k := range []struct {
		cert, code, msg string
	}{
		{unknown, "CertificateNotFound", "Certificate '" + unknown + "' not found"},
		{aws.ToString(pending.CertificateArn), "UnsupportedCertificate", "The certificate '" + aws.ToString(pending.CertificateArn) + "' must have a fully-qualified domain name, a supported signature, and a supported key size."},
	} {
		_, err := create(443, k.cert)
		var ae smithy.APIError
		if errCode(err) != k.code || !asAPIError(err, &ae) || ae.ErrorMessage() != k.msg {
			t.Fatalf("CreateListener with %s: %v, want %s %q", k.cert, err, k.code, k.msg)
		}
	}
	l, err := create(443, issued)
	if err != nil {
		t.Fatalf("with an issued certificate: %v", err)
	}
	_, err = e.cl.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(l),
		Certificates: []lbt.Certificate{{CertificateArn: pending.CertificateArn}}})
	wantCode(t, err, "UnsupportedCertificate")
	if _, err := create(8443, "arn:aws:iam::123456789012:server-certificate/wbo"); err != nil {
		t.Fatalf("IAM server certificate: %v", err)
	}
	// SNI certificates are checked the same way; the default one stays.
	_, err = elbv2.NewFromConfig(e.cl.Config()).AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: aws.String(l),
		Certificates: []lbt.Certificate{{CertificateArn: pending.CertificateArn}}})
	wantCode(t, err, "UnsupportedCertificate")
	other := e.c.IssuedCertificate("wiki.example.com")
	for range 2 {
		_, err = elbv2.NewFromConfig(e.cl.Config()).AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: aws.String(l),
			Certificates: []lbt.Certificate{{CertificateArn: aws.String(other)}}})
		e.must(err)
	}
	lc, err := elbv2.NewFromConfig(e.cl.Config()).DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: aws.String(l)})
	e.must(err)
	if len(lc.Certificates) != 2 || aws.ToString(lc.Certificates[0].CertificateArn) != issued || !aws.ToBool(lc.Certificates[0].IsDefault) ||
		aws.ToString(lc.Certificates[1].CertificateArn) != other || aws.ToBool(lc.Certificates[1].IsDefault) {
		t.Fatalf("listener certificates %+v", lc.Certificates)
	}
	_, err = elbv2.NewFromConfig(e.cl.Config()).RemoveListenerCertificates(ctx, &elbv2.RemoveListenerCertificatesInput{ListenerArn: aws.String(l),
		Certificates: []lbt.Certificate{{CertificateArn: aws.String(issued)}}})
	wantCode(t, err, "OperationNotPermitted")
	a2, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(other)})
	e.must(err)
	if len(a2.Certificate.InUseBy) != 1 {
		t.Fatalf("an SNI certificate is in use too: %v", a2.Certificate.InUseBy)
	}
}

// ACM keeps a certificate in use for a while after its listener went
// (WinACMInUse): DeleteCertificate answers ResourceInUseException with AWS's
// message, InUseBy still names the load balancer, then it lets go.
func TestACMInUseLingersAfterTheListener(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	e.c.PinWindow(WinACMInUse, 2)
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg := e.tg("t")
	cert := e.c.IssuedCertificate("board.example.com")
	out, err := e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(443),
		Protocol: lbt.ProtocolEnumHttps, DefaultActions: forward(tg), Certificates: []lbt.Certificate{{CertificateArn: aws.String(cert)}}})
	e.must(err)
	a := acm.NewFromConfig(e.cl.Config())
	del := func() error {
		_, err := a.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(cert)})
		return err
	}
	err = del()
	var ae smithy.APIError
	if !asAPIError(err, &ae) || ae.ErrorCode() != "ResourceInUseException" || ae.ErrorMessage() != "Certificate "+cert+" in account 123456789012 is in use." {
		t.Fatalf("in use: %v", err)
	}
	_, err = e.cl.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: out.Listeners[0].ListenerArn})
	e.must(err)
	wantCode(t, del(), "ResourceInUseException") // one read of the window
	d, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(cert)})
	e.must(err)
	if len(d.Certificate.InUseBy) != 1 || d.Certificate.InUseBy[0] != lbARN {
		t.Fatalf("InUseBy right after the listener went: %v", d.Certificate.InUseBy)
	}
	e.must(del())
	_, err = a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(cert)})
	wantCode(t, err, "ResourceNotFoundException")
}

// ListCertificates: RSA certificates only unless Includes.KeyTypes says
// otherwise, pages of MaxItems; imported certificates; the same
// idempotency token within an hour is the same certificate, whatever else
// changed.
func TestACMListingImportAndIdempotency(t *testing.T) {
	c, cl, vc := virtualCloud(t)
	ctx := context.Background()
	a := acm.NewFromConfig(cl.Config())
	ec, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("ec.example.com"), ValidationMethod: acmt.ValidationMethodDns,
		KeyAlgorithm: acmt.KeyAlgorithmEcPrime256v1, IdempotencyToken: aws.String("tok")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("other.example.com"), ValidationMethod: acmt.ValidationMethodDns,
		IdempotencyToken: aws.String("tok")})
	if err != nil || aws.ToString(again.CertificateArn) != aws.ToString(ec.CertificateArn) {
		t.Fatalf("same token, other domain: %v %v", again, err)
	}
	imp := c.ImportCertificate("Board.Example.com", vc.now().Add(30*24*time.Hour), "www.example.com")
	c.IssuedCertificate("rsa.example.com")
	list := func(in *acm.ListCertificatesInput) []string {
		var out []string
		p := acm.NewListCertificatesPaginator(a, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if in.MaxItems != nil && len(page.CertificateSummaryList) > int(*in.MaxItems) {
				t.Fatalf("page of %d, MaxItems %d", len(page.CertificateSummaryList), *in.MaxItems)
			}
			for _, s := range page.CertificateSummaryList {
				out = append(out, aws.ToString(s.DomainName))
			}
		}
		return out
	}
	if got := strings.Join(list(&acm.ListCertificatesInput{MaxItems: aws.Int32(1)}), ","); strings.Contains(got, "ec.example.com") || len(strings.Split(got, ",")) != 2 {
		t.Fatalf("default listing (RSA only): %s", got)
	}
	all := list(&acm.ListCertificatesInput{MaxItems: aws.Int32(2), Includes: &acmt.Filters{KeyTypes: []acmt.KeyAlgorithm{acmt.KeyAlgorithmRsa2048, acmt.KeyAlgorithmEcPrime256v1}}})
	if len(all) != 3 {
		t.Fatalf("with EC keys included: %v", all)
	}
	if got := list(&acm.ListCertificatesInput{CertificateStatuses: []acmt.CertificateStatus{acmt.CertificateStatusPendingValidation},
		Includes: &acmt.Filters{KeyTypes: []acmt.KeyAlgorithm{acmt.KeyAlgorithmEcPrime256v1}}}); len(got) != 1 || got[0] != "ec.example.com" {
		t.Fatalf("pending EC certificates: %v", got)
	}
	d, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(imp)})
	if err != nil {
		t.Fatal(err)
	}
	ct := d.Certificate
	if ct.Type != acmt.CertificateTypeImported || ct.Status != acmt.CertificateStatusIssued || ct.ImportedAt == nil || ct.CreatedAt != nil ||
		aws.ToString(ct.DomainName) != "board.example.com" || len(ct.SubjectAlternativeNames) != 2 || len(ct.DomainValidationOptions) != 0 {
		t.Fatalf("imported: %+v", ct)
	}
	vc.add(31 * 24 * time.Hour)
	d, _ = a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(imp)})
	if d.Certificate.Status != acmt.CertificateStatusExpired {
		t.Fatalf("past NotAfter: %s", d.Certificate.Status)
	}
}

// PublicHTTP reaches a load balancer by a custom domain once public DNS
// leads there (an INSYNC alias, a CNAME chain, an external record); an
// HTTPS listener presents its ACM certificate, for whatever name was asked;
// the HTTP redirect keeps the host the client asked for.
func TestPublicHTTPCustomDomainAndCertificate(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lb := e.lb("web")
	lbARN, dns := aws.ToString(lb.LoadBalancerArn), aws.ToString(lb.DNSName)
	ok200 := []lbt.Action{{Type: lbt.ActionTypeEnumFixedResponse, FixedResponseConfig: &lbt.FixedResponseActionConfig{StatusCode: aws.String("200")}}}
	e.listener(lbARN, 80, []lbt.Action{{Type: lbt.ActionTypeEnumRedirect, RedirectConfig: &lbt.RedirectActionConfig{Protocol: aws.String("HTTPS"),
		Port: aws.String("443"), StatusCode: lbt.RedirectActionStatusCodeEnumHttp301}}})
	notAfter := time.Now().Add(200 * 24 * time.Hour).Truncate(time.Second)
	cert := e.c.ImportCertificate("board.example.com", notAfter, "www.example.com")
	_, err := e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(443),
		Protocol: lbt.ProtocolEnumHttps, DefaultActions: ok200, Certificates: []lbt.Certificate{{CertificateArn: aws.String(cert)}}})
	e.must(err)
	pub := e.c.PublicHTTP()
	get := func(u string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		return pub.RoundTrip(req)
	}
	waitFor(t, "the load balancer active", func() bool { _, err := get("https://" + dns + "/"); return err == nil })
	var dnsErr *net.DNSError
	if _, err := get("https://board.example.com/"); !asDNSError(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("no record yet: %v", err)
	}
	r := route53.NewFromConfig(e.cl.Config())
	zone := e.c.CreateZone("example.com")
	_, err = changeRecords(ctx, r, zone,
		change(r53t.ChangeActionCreate, &r53t.ResourceRecordSet{Name: aws.String("board.example.com"), Type: r53t.RRTypeA,
			AliasTarget: &r53t.AliasTarget{DNSName: aws.String("dualstack." + dns), HostedZoneId: lb.CanonicalHostedZoneId, EvaluateTargetHealth: true}}),
		change(r53t.ChangeActionCreate, r53Set("www.example.com", r53t.RRTypeCname, 300, "board.example.com")))
	e.must(err)
	waitFor(t, "the alias resolves", func() bool { _, err := get("https://board.example.com/"); return err == nil })
	e.c.PublishExternalDNS("wbo.example.org", "CNAME", dns)
	var first *http.Response
	for _, host := range []string{"board.example.com", "www.example.com", "wbo.example.org"} {
		resp, err := get("https://" + host + "/")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", host, resp, err)
		}
		if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
			t.Fatalf("%s: no certificate", host)
		}
		leaf := resp.TLS.PeerCertificates[0]
		if first == nil {
			first = resp
		} else if resp.TLS.PeerCertificates[0] != first.TLS.PeerCertificates[0] {
			t.Error("the certificate is made again for each request")
		}
		if err := leaf.VerifyHostname("board.example.com"); err != nil {
			t.Errorf("%s: %v", host, err)
		}
		if err := leaf.VerifyHostname("www.example.com"); err != nil {
			t.Errorf("SAN: %v", err)
		}
		if !leaf.NotAfter.Equal(notAfter) {
			t.Errorf("NotAfter %v, want the ACM certificate's %v", leaf.NotAfter, notAfter)
		}
	}
	// Not covered by the certificate: still served, the client checks.
	resp, err := get("https://wbo.example.org/")
	if err != nil || resp.TLS.PeerCertificates[0].VerifyHostname("wbo.example.org") == nil {
		t.Fatalf("a name the certificate does not cover: %v", err)
	}
	// An added certificate that covers the name is the one SNI picks.
	sni := e.c.ImportCertificate("wbo.example.org", notAfter)
	ls, err := e.cl.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	e.must(err)
	for _, l := range ls.Listeners {
		if aws.ToInt32(l.Port) == 443 {
			_, err = elbv2.NewFromConfig(e.cl.Config()).AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: l.ListenerArn,
				Certificates: []lbt.Certificate{{CertificateArn: aws.String(sni)}}})
			e.must(err)
		}
	}
	if resp, err := get("https://wbo.example.org/"); err != nil || resp.TLS.PeerCertificates[0].VerifyHostname("wbo.example.org") != nil {
		t.Fatalf("SNI: %v", err)
	}
	if resp, err := get("https://board.example.com/"); err != nil || resp.TLS.PeerCertificates[0].VerifyHostname("board.example.com") != nil {
		t.Fatalf("the default certificate after SNI: %v", err)
	}
	resp, err = get("http://www.example.com/boards/x?y=1")
	if err != nil || resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://www.example.com:443/boards/x?y=1" {
		t.Fatalf("redirect: %v %v", resp, err)
	}
	if resp.TLS != nil {
		t.Fatal("an HTTP listener's answer carries TLS")
	}
	if _, err := get("https://board.example.com:80/"); err == nil {
		t.Fatal("TLS to the HTTP listener answered")
	}
	if resp, err := get("http://board.example.com:443/"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the HTTPS listener: %v %v", resp, err)
	}
	if _, err := get("https://nothing.example.com/"); !asDNSError(err, &dnsErr) {
		t.Fatalf("an unknown name: %v", err)
	}
}

func asDNSError(err error, d **net.DNSError) bool {
	x, ok := err.(*net.DNSError)
	if ok {
		*d = x
	}
	return ok
}

// Resolvers see a change only once it is INSYNC: until then an UPSERTed
// record answers its old value and a deleted one is still there.
func TestRoute53ResolversSeeChangesOnceInsync(t *testing.T) {
	c, cl, vc := virtualCloud(t)
	ctx := context.Background()
	r := route53.NewFromConfig(cl.Config())
	zone := c.CreateZone("example.com")
	sees := func(value string) bool {
		c.lock()
		defer c.unlock()
		return c.dnsHas("_v.example.com", r53t.RRTypeCname, value)
	}
	if _, err := changeRecords(ctx, r, zone, change(r53t.ChangeActionCreate, r53Set("_v.example.com", r53t.RRTypeCname, 60, "one.example.net"))); err != nil {
		t.Fatal(err)
	}
	if sees("one.example.net") {
		t.Fatal("visible while PENDING")
	}
	vc.add(Route53Propagation)
	if !sees("one.example.net") {
		t.Fatal("not visible once INSYNC")
	}
	if _, err := changeRecords(ctx, r, zone, change(r53t.ChangeActionUpsert, r53Set("_v.example.com.", r53t.RRTypeCname, 60, "two.example.net"))); err != nil {
		t.Fatal(err)
	}
	if !sees("one.example.net") || sees("two.example.net") {
		t.Fatal("an UPSERT took effect before INSYNC")
	}
	vc.add(Route53Propagation)
	if sees("one.example.net") || !sees("two.example.net") {
		t.Fatal("the UPSERT is not seen once INSYNC")
	}
	if _, err := changeRecords(ctx, r, zone, change(r53t.ChangeActionDelete, r53Set("_v.example.com", r53t.RRTypeCname, 60, "two.example.net"))); err != nil {
		t.Fatal(err)
	}
	if !sees("two.example.net") {
		t.Fatal("a DELETE took effect before INSYNC")
	}
	vc.add(Route53Propagation)
	if sees("two.example.net") {
		t.Fatal("deleted and INSYNC, still seen")
	}
}

// ListHostedZonesByName pages by name and zone ID (two zones may share a
// name); GetHostedZone answers the delegation set.
func TestRoute53ZonesListingAndDelegation(t *testing.T) {
	c, cl, _ := virtualCloud(t)
	ctx := context.Background()
	r := route53.NewFromConfig(cl.Config())
	a, b := c.CreateZone("example.com"), c.CreateZone("example.com")
	c.CreateZone("example.org")
	var got []string
	in := &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(1)}
	for {
		out, err := r.ListHostedZonesByName(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range out.HostedZones {
			got = append(got, aws.ToString(z.Name)+zoneID(aws.ToString(z.Id)))
		}
		if !out.IsTruncated {
			break
		}
		in = &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(1), DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
	}
	first, second := a, b
	if b < a {
		first, second = b, a
	}
	if strings.Join(got, ",") != "example.com."+first+",example.com."+second+",example.org."+got[2][len("example.org."):] {
		t.Fatalf("listing %v", got)
	}
	if _, err := r.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{HostedZoneId: aws.String(a)}); errCode(err) != "InvalidInput" {
		t.Fatalf("HostedZoneId without DNSName: %v", err)
	}
	z, err := r.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(a)})
	if err != nil || z.DelegationSet == nil || len(z.DelegationSet.NameServers) == 0 {
		t.Fatalf("delegation set: %+v %v", z, err)
	}
}
