package provision

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ec2TagSpec is the TagSpecifications of a create call: tags go on in the
// create call itself, so a resource is findable even if we die right after.
func ec2TagSpec(env *Env, logical string, rt ec2types.ResourceType) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: ec2Tags(env, logical)}}
}

func ec2Tags(env *Env, logical string) []ec2types.Tag {
	var tags []ec2types.Tag
	for _, kv := range env.SortedTags(logical) {
		tags = append(tags, ec2types.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	return tags
}

// ownFilters select the resource with a logical name of this stack.
func ownFilters(env *Env, logical string) []ec2types.Filter {
	return []ec2types.Filter{
		{Name: aws.String("tag:" + TagStack), Values: []string{env.Stack()}},
		{Name: aws.String("tag:" + TagResource), Values: []string{logical}},
	}
}

// stackFilters select every resource of this stack.
func stackFilters(env *Env) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String("tag:" + TagStack), Values: []string{env.Stack()}}}
}

func ec2TagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// pickOne chooses deterministically among resources found by tag. More than
// one means a duplicate exists (made by hand or by an old bug): we adopt the
// lowest ID and leave the rest for the user to see in status.
func pickOne(ids []string) (string, int) {
	if len(ids) == 0 {
		return "", 0
	}
	sort.Strings(ids)
	return ids[0], len(ids)
}

// azCache resolves the availability zones once per run. The first caller
// resolves them; the others wait on done, a channel rather than a
// sync.Once, so a waiter also gives up when its context ends and, inside a
// testing/synctest bubble, counts as durably blocked (a goroutine waiting
// for a sync.Once's mutex does not, and virtual time would stop).
type azCache struct {
	done chan struct{}
	azs  []string
	err  error
}

// AZs returns the two availability zones of the stack: the configured ones,
// or the first two available zones of the region.
func (e *Env) AZs(ctx context.Context) ([]string, error) {
	if len(e.Cfg.Network.AvailabilityZones) == 2 {
		return e.Cfg.Network.AvailabilityZones, nil
	}
	e.mu.Lock()
	c, first := e.azs, false
	if c == nil {
		c, first = &azCache{done: make(chan struct{})}, true
		e.azs = c
	}
	e.mu.Unlock()
	if !first {
		select {
		case <-c.done:
			return c.azs, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer close(c.done)
	func() {
		// Filtered here rather than with API filters, which some emulators
		// do not implement: available zones of type availability-zone (not
		// Local or Wavelength zones; an emulator may leave the type empty).
		out, err := e.AWS.EC2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
		if err != nil {
			c.err = fmt.Errorf("describe availability zones: %w", err)
			return
		}
		var names []string
		for _, z := range out.AvailabilityZones {
			if z.State != "" && z.State != ec2types.AvailabilityZoneStateAvailable {
				continue
			}
			if t := aws.ToString(z.ZoneType); t != "" && t != "availability-zone" {
				continue
			}
			names = append(names, aws.ToString(z.ZoneName))
		}
		sort.Strings(names)
		if len(names) < 2 {
			c.err = fmt.Errorf("region %s has fewer than two available zones", e.Region())
			return
		}
		c.azs = names[:2]
	}()
	return c.azs, c.err
}
