package awssim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sort"
	"time"
)

// Eventual consistency, in one place for every service.
//
// AWS answers reads from replicas that lag writes: a resource just created
// can be missing from a describe, one just deleted can still be listed, and
// one service can refuse what another service was just told (a new bucket
// policy, a new listener). A Window is one such lag. Each occurrence (one
// resource, one policy write) opens a window that stays open for a number of
// reads ("misses") drawn from the documented bounds (a hash of the Cloud's
// seed, the window and the ID), and at most for a span of AWS time; so tests
// meet the windows in different orders per seed. A test pins a window with PinWindow (then only
// the miss count closes it, whatever the machine's speed).

// Window names one kind of consistency lag the simulation models.
type Window int

// The windows, with their sources in windowBounds.
const (
	// WinEC2Describe: a new EC2 resource answers NotFound / is not listed.
	WinEC2Describe Window = iota
	// WinECSDescribe: DescribeServices answers a new service as a MISSING failure.
	WinECSDescribe
	// WinELBDescribe: a new load balancer, target group or listener answers
	// LoadBalancerNotFound / TargetGroupNotFound / ListenerNotFound.
	WinELBDescribe
	// WinElastiCacheDescribe: a new replication group or cache subnet group
	// answers ReplicationGroupNotFoundFault / CacheSubnetGroupNotFoundFault.
	WinElastiCacheDescribe
	// WinCloudWatchDescribe: DescribeAlarms does not list a new alarm yet.
	WinCloudWatchDescribe
	// WinDeletedListed: a deleted resource is still listed by filters.
	WinDeletedListed
	// WinLogBucketPolicy: ELB refuses access logs to a bucket whose policy
	// was just written.
	WinLogBucketPolicy
	// WinListenerTargetGroup: ECS refuses a target group whose listener (or
	// rule) was just created.
	WinListenerTargetGroup
	// WinACMInUse: ACM still lists a load balancer in a certificate's InUseBy
	// (and refuses DeleteCertificate) after its listener let the certificate go.
	WinACMInUse
	numWindows
)

// windowBound is how a window is drawn: misses uniform in [min, max], open
// at most span (AWS time).
type windowBound struct {
	name     string
	min, max int
	span     time.Duration
}

// windowBounds are the documented bounds. AWS documents "eventually" and
// "seconds" more often than numbers; where it gives none, the bound is what
// other tools wait for (their timeouts are far longer than the window).
var windowBounds = [numWindows]windowBound{
	// "Eventual consistency in the Amazon EC2 API" (EC2 API reference):
	// describes of a new resource can fail with NotFound; it recommends
	// exponential backoff up to "several minutes"; typically seconds.
	WinEC2Describe: {"ec2-describe", 1, 3, 5 * time.Second},
	// terraform-provider-aws retries DescribeServices MISSING after
	// CreateService (internal/service/ecs/service.go, "waitServiceActive" /
	// RetryWhenNewResourceNotFound), ECS being eventually consistent ("Amazon
	// ECS API ... eventual consistency", ECS API reference, Common errors).
	WinECSDescribe: {"ecs-describe", 1, 3, 10 * time.Second},
	// terraform-provider-aws reads new ELBv2 resources with
	// RetryWhenNewResourceNotFound (elbv2PropagationTimeout, 2 minutes) in
	// load_balancer.go, target_group.go and listener.go.
	WinELBDescribe: {"elbv2-describe", 1, 2, 5 * time.Second},
	// terraform-provider-aws retries ReplicationGroupNotFoundFault and
	// CacheSubnetGroupNotFoundFault right after creation
	// (internal/service/elasticache, RetryWhenNewResourceNotFound).
	WinElastiCacheDescribe: {"elasticache-describe", 1, 2, 5 * time.Second},
	// terraform-provider-aws reads a new metric alarm with
	// RetryWhenNewResourceNotFound (cloudwatch/metric_alarm.go): DescribeAlarms
	// can omit it for a moment.
	WinCloudWatchDescribe: {"cloudwatch-describe", 1, 2, 5 * time.Second},
	// Deleted resources linger in listings: the EC2 API reference's eventual
	// consistency page (a deleted resource can still be described), and
	// terraform-provider-aws's waiters that poll until a deleted resource is
	// gone (e.g. vpc.go, WaitVPCDeleted / security group "deleted" waiters).
	WinDeletedListed: {"deleted-listed", 1, 2, 5 * time.Second},
	// "InvalidConfigurationRequest: Access Denied for bucket: X. Please check
	// S3bucket permission" right after the bucket policy was written:
	// hashicorp/terraform-provider-aws#12010 (comments: it succeeds on a
	// retry seconds later), kubernetes-sigs/aws-load-balancer-controller#1956.
	WinLogBucketPolicy: {"log-bucket-policy", 1, 3, 10 * time.Second},
	// "The target group with targetGroupArn ... does not have an associated
	// load balancer." right after the listener was created:
	// hashicorp/terraform-provider-aws#3535 (the provider retries
	// CreateService on it), aws/aws-cdk#34290.
	WinListenerTargetGroup: {"listener-target-group", 1, 2, 10 * time.Second},
	// "it can take around 10s for ACM to acknowledge that the certificate is
	// no longer in use" after the listener was deleted: aws/aws-cdk#4179 (the
	// fix, aws/aws-cdk#4191, polls InUseBy before DeleteCertificate);
	// "Deleting ACM certificate fails with ResourceInUseException by a
	// deleted ELB", hashicorp/terraform-provider-aws#3866 (the provider
	// retries DeleteCertificate on ResourceInUseException).
	WinACMInUse: {"acm-in-use", 1, 3, 15 * time.Second},
}

func (w Window) String() string {
	if w >= 0 && w < numWindows {
		return windowBounds[w].name
	}
	return fmt.Sprintf("window(%d)", int(w))
}

type winKey struct {
	w  Window
	id string
}

// lag is one open window.
type lag struct {
	misses int       // reads left that still see the old state
	until  time.Time // wall deadline; zero = closed by misses only (pinned)
	ghost  any       // WinDeletedListed: the resource as it was
}

// consistency holds the open windows; guarded by Cloud.mu.
type consistency struct {
	pinned [numWindows]int // -1: drawn from windowBounds; else the miss count
	open   map[winKey]*lag
}

func (k *consistency) init(misses int) {
	k.open = map[winKey]*lag{}
	for w := range k.pinned {
		switch {
		case misses > 0:
			k.pinned[w] = misses
		case misses < 0:
			k.pinned[w] = 0
		default:
			k.pinned[w] = -1
		}
	}
}

// PinWindow fixes the number of reads every later occurrence of w misses
// (0 turns the window off), with no time bound, so a test meets it exactly.
func (c *Cloud) PinWindow(w Window, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if misses < 0 {
		misses = 0
	}
	c.cons.pinned[w] = misses
}

// openWindow starts window w for id (c.mu held): the next reads of id see the
// state before the change. A ghost is kept for WinDeletedListed.
func (c *Cloud) openWindow(w Window, id string, ghost any) {
	b := windowBounds[w]
	l := &lag{ghost: ghost}
	if p := c.cons.pinned[w]; p >= 0 {
		l.misses = p
	} else {
		l.misses = b.min + int(c.draw(w, id)%uint64(b.max-b.min+1))
		l.until = c.now().Add(c.wall(b.span))
	}
	if l.misses == 0 {
		delete(c.cons.open, winKey{w, id})
		return
	}
	c.cons.open[winKey{w, id}] = l
}

// draw is the seeded, order-independent draw for window w of id: a hash of
// the Cloud's seed, the window and the id, so concurrent creates draw the
// same windows whichever runs first.
func (c *Cloud) draw(w Window, id string) uint64 {
	h := fnv.New64a()
	_ = binary.Write(h, binary.LittleEndian, c.seed)
	_ = binary.Write(h, binary.LittleEndian, int64(w))
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// inWindow reports whether id is still in window w, counting this read as
// one miss (c.mu held). A closed window is forgotten.
func (c *Cloud) inWindow(w Window, id string) bool {
	k := winKey{w, id}
	l, ok := c.cons.open[k]
	if !ok {
		return false
	}
	if l.misses <= 0 || (!l.until.IsZero() && c.now().After(l.until)) {
		delete(c.cons.open, k)
		return false
	}
	l.misses--
	return true
}

// windowOpen reports whether id has an open window w, without counting a
// read (c.mu held): listings call it before deciding to count.
func (c *Cloud) windowOpen(w Window, id string) bool {
	_, ok := c.cons.open[winKey{w, id}]
	return ok
}

// closeWindow ends window w for id at once (the resource was deleted).
func (c *Cloud) closeWindow(w Window, id string) { delete(c.cons.open, winKey{w, id}) }

// deleted records that id was deleted while listings may still show it as
// ghost (c.mu held). The new-resource window closes: it is gone either way.
func (c *Cloud) deleted(id string, ghost any) {
	for w := Window(0); w < numWindows; w++ {
		if w != WinDeletedListed {
			c.closeWindow(w, id)
		}
	}
	c.openWindow(WinDeletedListed, id, ghost)
}

// ghosts returns the deleted resources of type T that a listing still shows,
// counting this listing as one miss for each (c.mu held). Sorted by id.
func ghosts[T any](c *Cloud) []T {
	var ids []string
	for k, l := range c.cons.open {
		if _, ok := l.ghost.(T); ok && k.w == WinDeletedListed {
			ids = append(ids, k.id)
		}
	}
	sort.Strings(ids)
	var out []T
	for _, id := range ids {
		l := c.cons.open[winKey{WinDeletedListed, id}]
		g := l.ghost.(T)
		if c.inWindow(WinDeletedListed, id) {
			out = append(out, g)
		}
	}
	return out
}

// ---- the EC2 names, kept for ec2.go ----

// hidden reports whether a freshly created EC2 resource is still invisible to
// describes (eventual consistency); call it with c.mu held.
func (c *Cloud) hidden(id string) bool { return c.inWindow(WinEC2Describe, id) }

// isFresh reports whether id is still in its consistency window (c.mu held).
func (c *Cloud) isFresh(id string) bool { return c.windowOpen(WinEC2Describe, id) }

// created marks a new EC2 resource as subject to eventual consistency.
func (c *Cloud) created(id string) { c.openWindow(WinEC2Describe, id, nil) }

// listed is what a filtered listing walks: the live resources by id, then the
// deleted ones it still shows (WinDeletedListed). Describes by ID answer
// NotFound for a deleted resource at once; only listings lag (c.mu held).
func listed[T any](c *Cloud, live map[string]T) []T {
	var out []T
	for _, id := range sortedKeys(live) {
		out = append(out, live[id])
	}
	return append(out, ghosts[T](c)...)
}
