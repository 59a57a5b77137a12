package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// dnsZoneKind finds the Route 53 public hosted zone that holds domain.name:
// domain.hosted_zone_id, or the zone whose name is the longest suffix of the
// domain. It is a lookup, never a resource of the stack: wbo-deploy neither
// creates nor deletes zones. Its ID is the zone ID, or zoneExternal when no
// zone of the account holds the domain: the records are then the user's to
// create at their DNS provider (certificate.go says which).
type dnsZoneKind struct{}

func init() { Register(dnsZoneKind{}) }

func (dnsZoneKind) Type() string { return "route53.zone" }

const (
	dnsZoneNode = "dns-zone"
	// zoneExternal is the zone node's ID when DNS is elsewhere.
	zoneExternal = "external"
)

type zoneInfo struct {
	id, name string // name with the trailing dot
}

// lookupZone finds the zone of domain (see dnsZoneKind); a zero zoneInfo
// means none.
func lookupZone(ctx context.Context, env *Env, domain string) (zoneInfo, error) {
	fq := fqdnOf(domain)
	if id := env.Cfg.HostedZoneID(); id != "" {
		out, err := env.AWS.Route53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
		if awserr.IsNotFound(err) {
			return zoneInfo{}, fmt.Errorf("domain.hosted_zone_id %s: no such hosted zone in this account", id)
		}
		if err != nil {
			return zoneInfo{}, fmt.Errorf("get hosted zone %s: %w", id, err)
		}
		z := out.HostedZone
		name := fqdnOf(aws.ToString(z.Name))
		switch {
		case z.Config != nil && z.Config.PrivateZone:
			return zoneInfo{}, fmt.Errorf("domain.hosted_zone_id %s is a private zone: ACM validates, and users resolve, through a public zone", id)
		case fq != name && !strings.HasSuffix(fq, "."+name):
			return zoneInfo{}, fmt.Errorf("domain.hosted_zone_id %s is the zone of %s, which does not hold %s", id, name, domain)
		}
		return zoneInfo{id: zoneIDOf(aws.ToString(z.Id)), name: name}, nil
	}
	labels := strings.Split(strings.TrimSuffix(fq, "."), ".")
	// From the name itself to its parent of two labels: a zone for a
	// top-level domain alone is not the user's to write in.
	for i := 0; i+2 <= len(labels); i++ {
		suffix := strings.Join(labels[i:], ".") + "."
		out, err := env.AWS.Route53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String(suffix), MaxItems: aws.Int32(10)})
		if err != nil {
			return zoneInfo{}, fmt.Errorf("list hosted zones named %s: %w", suffix, err)
		}
		var public []zoneInfo
		for _, z := range out.HostedZones {
			if fqdnOf(aws.ToString(z.Name)) != suffix {
				break // listed in name order: the zones of this name come first
			}
			if z.Config == nil || !z.Config.PrivateZone {
				public = append(public, zoneInfo{id: zoneIDOf(aws.ToString(z.Id)), name: suffix})
			}
		}
		switch len(public) {
		case 0:
			continue
		case 1:
			return public[0], nil
		default:
			return zoneInfo{}, fmt.Errorf("%d public hosted zones are named %s (%s, %s...): set domain.hosted_zone_id to the one that holds %s",
				len(public), suffix, public[0].id, public[1].id, domain)
		}
	}
	return zoneInfo{}, nil
}

// zoneIDOf is a zone ID as Route 53 answers it, without "/hostedzone/".
func zoneIDOf(id string) string { return config.TrimHostedZoneID(id) }

func (k dnsZoneKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	domain := env.Cfg.DomainName()
	if domain == "" && rec != nil {
		domain = rec.Attrs["domain"]
	}
	if domain == "" {
		return nil, nil
	}
	z, err := lookupZone(ctx, env, domain)
	if err != nil {
		return nil, err
	}
	obs := &Observed{State: "found", Info: map[string]string{}}
	if z.id == "" {
		obs.Rec = NewRecord(n, zoneExternal)
		obs.Info["zone"] = "none in this account: the DNS records of " + domain + " are created at your DNS provider"
	} else {
		obs.Rec = NewRecord(n, z.id)
		obs.Rec.Attrs["zone"] = z.name
		obs.Info["zone"] = z.name + " (" + z.id + ")"
	}
	obs.Rec.Attrs["domain"] = domain
	return obs, nil
}

// Create is never called: Find always answers (a zone, or none).
func (dnsZoneKind) Create(context.Context, *Env, *Node) (*Observed, error) {
	return nil, fmt.Errorf("hosted zones are not made by wbo-deploy")
}

func (dnsZoneKind) Diff(*Env, *Node, *Observed) []Change                           { return nil }
func (dnsZoneKind) Update(context.Context, *Env, *Node, *Observed, []Change) error { return nil }

// Delete forgets the lookup: the zone is the user's.
func (dnsZoneKind) Delete(context.Context, *Env, state.Resource) error { return nil }

func (dnsZoneKind) PlanNote(env *Env, n *Node) string {
	if id := env.Cfg.HostedZoneID(); id != "" {
		return "Route 53 zone " + id + " (domain.hosted_zone_id), for the records of " + env.Cfg.DomainName()
	}
	return "looks up the Route 53 public zone of " + env.Cfg.DomainName() + " (none: up prints the records to create)"
}
