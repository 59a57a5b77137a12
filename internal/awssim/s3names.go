package awssim

import (
	"sync"
	"time"
)

// The bucket-name lifecycle.
//
// Bucket names are global: "a bucket name must be unique across all AWS
// accounts in all the AWS Regions within a partition" (S3 User Guide,
// "General purpose bucket naming rules"). A BucketNamespace is that
// partition-wide namespace; several Clouds (accounts) can share one
// (Options.Buckets), so a name one of them holds is "someone else's" to the
// others: CreateBucket answers BucketAlreadyExists, HeadBucket 403.
//
// A deleted bucket's name is not free at once. "After you send a request to
// delete a bucket, Amazon S3 queues the bucket name for deletion ... changes
// such as the deletion of a bucket take time to become consistent across all
// AWS Regions. In many cases, you can create a bucket within a few hours
// after you delete the previous bucket. However, it might take 48-72 hours"
// (AWS knowledge center, s3-conflicting-conditional-operation); until then
// CreateBucket of that name answers 409 OperationAborted "A conflicting
// conditional operation is currently in progress against this resource.
// Please try again." The simulation holds a deleted name for a random time
// drawn from the Cloud's seed: between BucketNameHoldMin and BucketNameHoldMax
// for a bucket re-created in the region it was deleted from, between
// BucketNameHoldMax and BucketNameHoldCrossRegionMax for another region (the
// deletion must reach every region first). Tests pin it with
// PinBucketNameHold / PinBucketNameRefusals. During the hold the name is
// refused to every account, and HeadBucket answers 404.

const (
	// BucketNameHoldMin and BucketNameHoldMax bound the random hold of a
	// deleted name re-created in the same region ("within a few hours").
	BucketNameHoldMin = time.Minute
	BucketNameHoldMax = 4 * time.Hour
	// BucketNameHoldCrossRegionMax bounds it for another region ("48-72 hours").
	BucketNameHoldCrossRegionMax = 72 * time.Hour
)

// BucketNamespace is the global bucket namespace of one partition, which
// several simulated accounts may share.
type BucketNamespace struct {
	mu    sync.Mutex
	owner map[string]nsBucket // live buckets
	held  map[string]*nameHold
}

type nsBucket struct{ account, region string }

// NewBucketNamespace makes an empty namespace to share between Clouds.
func NewBucketNamespace() *BucketNamespace {
	return &BucketNamespace{owner: map[string]nsBucket{}, held: map[string]*nameHold{}}
}

type nameHold struct {
	region            string    // where the deleted bucket was
	until, crossUntil time.Time // free in the same region / elsewhere after
	refusals          int       // > 0: refuse this many more creates (pinned; the times are zero)
	forever           bool      // pinned: until ReleaseBucketNames
}

// refuses reports whether a create in region is refused now, counting a
// refusal off a pinned count.
func (h *nameHold) refuses(region string, now time.Time) bool {
	switch {
	case h.forever:
		return true
	case h.refusals > 0:
		h.refusals--
		return true
	case region == h.region:
		return now.Before(h.until)
	default:
		return now.Before(h.crossUntil)
	}
}

// ownerOf returns the account and region holding name, if any.
func (ns *BucketNamespace) ownerOf(name string) (nsBucket, bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	b, ok := ns.owner[name]
	return b, ok
}

// claim takes name for account in region, unless the name is held after a
// delete (OperationAborted) or owned (the caller checks owners first).
func (ns *BucketNamespace) claim(name, account, region string, now time.Time) (held bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if h, ok := ns.held[name]; ok {
		if h.refuses(region, now) {
			return true
		}
		delete(ns.held, name)
	}
	ns.owner[name] = nsBucket{account: account, region: region}
	return false
}

// put records a bucket made directly (AddBucket).
func (ns *BucketNamespace) put(name, account, region string) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	delete(ns.held, name)
	ns.owner[name] = nsBucket{account: account, region: region}
}

// release frees name after a delete, holding it as h says.
func (ns *BucketNamespace) release(name string, h *nameHold) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	delete(ns.owner, name)
	ns.held[name] = h
}

// holdPin is a test's choice of hold, replacing the random one.
type holdPin struct {
	d        time.Duration // AWS time; < 0 forever
	refusals int
}

// PinBucketNameHold makes every later DeleteBucket of this Cloud hold the
// name for d (AWS time, in any region) instead of a random time; d < 0 holds
// it until ReleaseBucketNames, d == 0 frees it at once.
func (c *Cloud) PinBucketNameHold(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s3().pin = &holdPin{d: d}
}

// PinBucketNameRefusals makes every later DeleteBucket of this Cloud hold the
// name for exactly n CreateBucket calls, whatever the time: deterministic,
// for tests of a retry.
func (c *Cloud) PinBucketNameRefusals(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s3().pin = &holdPin{refusals: n}
}

// ReleaseBucketNames frees every held name of the namespace at once.
func (c *Cloud) ReleaseBucketNames() {
	ns := c.s3().ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.held = map[string]*nameHold{}
}

// newHold is the hold of a name deleted now from region (c.mu held).
func (s *s3Sim) newHold(region string) *nameHold {
	now := s.c.now()
	h := &nameHold{region: region}
	switch p := s.pin; {
	case p == nil:
		same := BucketNameHoldMin + time.Duration(s.c.rnd.Int63n(int64(BucketNameHoldMax-BucketNameHoldMin)))
		cross := BucketNameHoldMax + time.Duration(s.c.rnd.Int63n(int64(BucketNameHoldCrossRegionMax-BucketNameHoldMax)))
		h.until, h.crossUntil = now.Add(s.c.wall(same)), now.Add(s.c.wall(cross))
	case p.refusals > 0:
		h.refusals = p.refusals
	case p.d < 0:
		h.forever = true
	default:
		h.until = now.Add(s.c.wall(p.d))
		h.crossUntil = h.until
	}
	return h
}
