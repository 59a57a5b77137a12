package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// bucketKind provisions an S3 bucket. Node.Role "boards" is the board
// bucket (versioned, kept by destroy unless --delete-data); "alb-logs" is the
// load balancer's access-log bucket (deleted by destroy unless --keep-logs).
//
// Bucket names are deterministic (config.BoardBucket, AccessLogBucket): that,
// more than its tags, is what finds a bucket again after a crash or after a
// destroy that kept it. The tags go in the create call anyway
// (CreateBucketConfiguration.Tags, accepted for general purpose buckets since
// 2025: aws-sdk-go-v2 service/s3 v1.114 types.CreateBucketConfiguration; it
// needs s3:TagResource) and are converged with PutBucketTagging when an
// endpoint ignored them.
type bucketKind struct{}

func init() { Register(bucketKind{}) }

func (bucketKind) Type() string { return "s3.bucket" }

// BucketNameTakenError says the bucket name belongs to another AWS account.
type BucketNameTakenError struct {
	Bucket string
	Role   string
}

func (e *BucketNameTakenError) Error() string {
	if e.Role == bucketRoleLogs {
		return fmt.Sprintf("the access-log bucket name %q is taken by another AWS account (S3 bucket names are global); "+
			"choose another stack name, or set load_balancer.access_logs to false", e.Bucket)
	}
	return fmt.Sprintf("the S3 bucket name %q is taken by another AWS account (S3 bucket names are global across all accounts); "+
		"set storage.bucket in the config file to a name of your own", e.Bucket)
}

// BucketNameWait bounds how long (AWS time) up retries CreateBucket while S3
// still holds a name deleted a moment ago. S3 queues a deleted name for
// deletion and releases it once the deletion is consistent in every region:
// "In many cases, you can create a bucket within a few hours after you
// delete the previous bucket. However, it might take 48-72 hours" (AWS
// knowledge center, s3-conflicting-conditional-operation). Often it is a
// matter of minutes after a same-region delete; waiting hours in a CLI is
// not, so up retries this long, then says what to do (BucketNameHeldError).
const BucketNameWait = 10 * time.Minute

// BucketNameHeldError says S3 still holds a bucket name deleted recently.
type BucketNameHeldError struct {
	Bucket, Role string
	Waited       time.Duration
}

func (e *BucketNameHeldError) Error() string {
	msg := fmt.Sprintf("S3 has not released the bucket name %s since it was deleted (409 OperationAborted after retrying for %s): "+
		"AWS says this usually takes minutes to a few hours, and up to 48-72 hours; nothing was created for it. Run `wbo-deploy up` again later",
		e.Bucket, e.Waited)
	if e.Role == bucketRoleLogs {
		return msg + ", or set load_balancer.access_logs to false until then (`destroy --keep-logs` keeps the log bucket, and its name, next time)"
	}
	return msg + ", or set storage.bucket to another name"
}

// BucketRegionError says a bucket of this account with the wanted name
// exists in another region.
type BucketRegionError struct {
	Bucket, Region, Want string
}

func (e *BucketRegionError) Error() string {
	return fmt.Sprintf("bucket %s already exists in region %s, but this stack deploys in %s (S3 bucket names are global): "+
		"set storage.bucket to another name, or deploy the stack in %s", e.Bucket, e.Region, e.Want, e.Region)
}

func (k bucketKind) record(env *Env, n *Node, name string) state.Resource {
	rec := NewRecord(n, name)
	rec.ARN = bucketARN(env, name)
	rec.Attrs["role"] = n.Role
	rec.Attrs["region"] = env.Region()
	return rec
}

// exists asks HeadBucket whether this account has a bucket of that name in
// the stack's region. Someone else's bucket (403) counts as absent here:
// CreateBucket then answers BucketAlreadyExists, which says so clearly.
func (k bucketKind) exists(ctx context.Context, env *Env, name string) (bool, error) {
	out, err := env.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env)})
	switch {
	case err == nil:
		if r := aws.ToString(out.BucketRegion); r != "" && r != env.Region() {
			return false, &BucketRegionError{Bucket: name, Region: r, Want: env.Region()}
		}
		return true, nil
	case awserr.HasCode(err, "NotFound", "NoSuchBucket", "Forbidden", "AccessDenied"):
		return false, nil
	case awserr.HasCode(err, "MovedPermanently", "PermanentRedirect"):
		loc, lerr := env.AWS.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env)})
		if lerr != nil {
			return false, fmt.Errorf("bucket %s exists in another region than %s: %w", name, env.Region(), err)
		}
		return false, &BucketRegionError{Bucket: name, Region: locationRegion(loc.LocationConstraint), Want: env.Region()}
	}
	return false, fmt.Errorf("head bucket %s: %w", name, err)
}

// locationRegion maps a GetBucketLocation answer to a region: us-east-1
// buckets have no location constraint, and "EU" is the old name of eu-west-1.
func locationRegion(lc s3types.BucketLocationConstraint) string {
	switch lc {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return string(lc)
}

func (k bucketKind) observe(ctx context.Context, env *Env, n *Node, name string) (*Observed, error) {
	o, err := observeBucket(ctx, env, name, n.Role)
	if err != nil {
		return nil, err
	}
	obs := &Observed{Rec: k.record(env, n, name), State: "available", Raw: o,
		Info: map[string]string{"bucket": name, "encryption": orNone(o.encryption)}}
	if n.Role == bucketRoleBoards {
		obs.Info["versioning"] = orNone(o.versioning)
		obs.Info["prefix"] = env.Cfg.Storage.Prefix
	}
	return obs, nil
}

func (k bucketKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	spec, err := bucketWant(env, n)
	if err != nil {
		return nil, err
	}
	var names []string
	if rec != nil && rec.ID != "" {
		names = append(names, rec.ID)
	}
	if rec == nil || rec.ID != spec.name {
		names = append(names, spec.name)
	}
	for _, name := range names {
		ok, err := k.exists(ctx, env, name)
		if err != nil {
			return nil, err
		}
		if ok {
			return k.observe(ctx, env, n, name)
		}
	}
	return nil, nil
}

func (k bucketKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	spec, err := bucketWant(env, n)
	if err != nil {
		return nil, err
	}
	cfg := &s3types.CreateBucketConfiguration{Tags: s3Tags(spec.tags)}
	// CreateBucket API reference: a bucket in us-east-1 is created without a
	// location constraint; any other region needs its own as the constraint.
	if r := env.Region(); r != "us-east-1" {
		cfg.LocationConstraint = s3types.BucketLocationConstraint(r)
	}
	in := &s3.CreateBucketInput{
		Bucket: aws.String(spec.name), CreateBucketConfiguration: cfg,
		ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced, // ACLs disabled
	}
	create := func(ctx context.Context) error {
		_, err := env.AWS.S3.CreateBucket(ctx, in)
		if awserr.HasCode(err, "MalformedXML", "InvalidArgument", "InvalidRequest", "NotImplemented") && len(cfg.Tags) > 0 {
			// S3 implementations that predate tags in CreateBucket (older
			// emulators, some S3-compatible endpoints) refuse the element:
			// create without, and let the converge step tag the bucket (its
			// deterministic name still makes it findable after a crash).
			cfg.Tags = nil
			_, err = env.AWS.S3.CreateBucket(ctx, in)
		}
		return err
	}
	// A name deleted a moment ago (the access-log bucket, which destroy
	// deletes by default; the board bucket after --delete-data) is held by
	// S3 for a while: 409 OperationAborted. Retry for a bounded time, saying
	// why; nothing is created meanwhile, so a crash or Ctrl-C leaves nothing
	// to adopt and the next up simply tries again.
	err = env.Clock.Retry(ctx, BucketNameWait, awserr.IsNameHeld, func(_ string, elapsed time.Duration) {
		env.Progress(n.Name, fmt.Sprintf("bucket name %s was deleted recently and S3 has not released it yet (409 OperationAborted); "+
			"retrying for up to %s", spec.name, BucketNameWait), elapsed)
	}, create)
	switch {
	case err == nil:
	case awserr.HasCode(err, "BucketAlreadyOwnedByYou"):
		// Ours already (an earlier run died before recording it, or the
		// user named an existing bucket): adopt it.
	case awserr.HasCode(err, "BucketAlreadyExists"):
		return nil, &BucketNameTakenError{Bucket: spec.name, Role: n.Role}
	case awserr.IsNameHeld(err):
		return nil, &BucketNameHeldError{Bucket: spec.name, Role: n.Role, Waited: BucketNameWait}
	default:
		return nil, fmt.Errorf("create bucket %s in %s: %w", spec.name, env.Region(), err)
	}
	if err := env.Record(k.record(env, n, spec.name)); err != nil {
		return nil, err
	}
	// Bucket settings are eventually consistent right after creation: wait
	// until HeadBucket sees the bucket before configuring it.
	minD, maxD := env.Clock.WaiterDelays(time.Second, 5*time.Second)
	if err := s3.NewBucketExistsWaiter(env.AWS.S3, func(o *s3.BucketExistsWaiterOptions) { o.MinDelay, o.MaxDelay = minD, maxD }).
		Wait(ctx, &s3.HeadBucketInput{Bucket: aws.String(spec.name), ExpectedBucketOwner: expectedOwner(env)}, env.Clock.WaitTimeout(2*time.Minute)); err != nil {
		return nil, fmt.Errorf("wait for bucket %s to exist: %w", spec.name, err)
	}
	return k.observe(ctx, env, n, spec.name)
}

func (k bucketKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	spec, err := bucketWant(env, n)
	if err != nil {
		return []Change{{Field: "configuration", New: err.Error()}}
	}
	if obs.Rec.ID != spec.name {
		return []Change{{Field: "name", Old: obs.Rec.ID, New: spec.name, Replace: true,
			Why: "an S3 bucket cannot be renamed; copy the objects to the new bucket yourself, or set the old name back"}}
	}
	o, ok := obs.Raw.(*bucketObs)
	if !ok {
		return nil
	}
	return bucketChanges(spec, o)
}

func (k bucketKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	spec, err := bucketWant(env, n)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := applyBucketChange(ctx, env, spec, c); err != nil {
			return err
		}
	}
	return nil
}

// bucketRoleOf tells which bucket a record is: by its recorded role, else by
// its logical name. An unknown bucket counts as board data, which is kept.
func bucketRoleOf(rec state.Resource) string {
	if r := rec.Attrs["role"]; r != "" {
		return r
	}
	if rec.Name == "bucket-logs" {
		return bucketRoleLogs
	}
	return bucketRoleBoards
}

func (k bucketKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	name, role := rec.ID, bucketRoleOf(rec)
	keep := !env.Destroy.DeleteData
	if role == bucketRoleLogs {
		keep = env.Destroy.KeepLogs
	}
	if keep {
		n, err := countObjects(ctx, env, name)
		if awserr.HasCode(err, "NoSuchBucket") {
			return nil // deleted outside wbo-deploy: nothing to keep
		}
		if err != nil {
			return err
		}
		if role == bucketRoleLogs {
			return &KeptError{Reason: fmt.Sprintf("access-log bucket %s kept with its %d log files (--keep-logs)", name, n)}
		}
		return &KeptError{Reason: fmt.Sprintf("board bucket %s kept with its %d objects; `wbo-deploy destroy --delete-data` deletes it", name, n)}
	}
	if err := emptyBucket(ctx, env, rec.Name, name); err != nil {
		if awserr.HasCode(err, "NoSuchBucket") {
			return nil
		}
		return err
	}
	_, err := env.AWS.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env)})
	if err != nil && !awserr.HasCode(err, "NoSuchBucket") {
		// BucketNotEmpty (an object written meanwhile, or listing lagging
		// behind) is a dependency error: the engine retries, emptying again.
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// Discover lists this account's buckets in the stack's region and keeps the
// ones tagged for the stack.
// mayBeStackBucket: the stack's buckets are the configured board bucket,
// its access-log bucket, or (made by an earlier configuration) a name
// starting with the stack's name, as every generated name does. Other
// buckets of the account (a state bucket, anybody's) are not read at all:
// the operator policy grants nothing on them (iam-policy), so reading their
// tags would only be refused.
func mayBeStackBucket(env *Env, name string) bool {
	acct, region := env.Account(), env.Region()
	return name == env.Cfg.BoardBucket(acct, region) || name == env.Cfg.AccessLogBucket(acct, region) ||
		strings.HasPrefix(name, env.Stack()+"-")
}

func (k bucketKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	// BucketRegion limits the answer to the region of the endpoint (ListBuckets
	// API reference); an endpoint that ignores it returns buckets without
	// BucketRegion, and GetBucketLocation tells.
	p := s3.NewListBucketsPaginator(env.AWS.S3, &s3.ListBucketsInput{BucketRegion: aws.String(env.Region()), MaxBuckets: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		for _, b := range page.Buckets {
			name := aws.ToString(b.Name)
			if !mayBeStackBucket(env, name) {
				continue
			}
			region := aws.ToString(b.BucketRegion)
			if region == "" {
				loc, err := env.AWS.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b.Name, ExpectedBucketOwner: expectedOwner(env)})
				if err != nil {
					continue // gone meanwhile, or not ours to read
				}
				region = locationRegion(loc.LocationConstraint)
			}
			if region != env.Region() {
				continue
			}
			tags, err := env.AWS.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b.Name, ExpectedBucketOwner: expectedOwner(env)})
			switch {
			case awserr.HasCode(err, "NoSuchTagSet", "NoSuchBucket", "AccessDenied", "PermanentRedirect"):
				continue
			case err != nil:
				return nil, fmt.Errorf("get tags of bucket %s: %w", name, err)
			}
			m := map[string]string{}
			for _, t := range tags.TagSet {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if m[TagStack] != env.Stack() {
				continue
			}
			rec := state.Resource{Name: m[TagResource], Kind: k.Type(), ID: name, ARN: bucketARN(env, name), Attrs: map[string]string{}}
			if strings.HasPrefix(rec.Name, "bucket-") {
				rec.Attrs["role"] = bucketRoleOf(rec)
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// PlanNote says what destroy does with the bucket.
func (k bucketKind) PlanNote(env *Env, n *Node) string {
	if n.Role == bucketRoleLogs {
		return fmt.Sprintf("access logs expire after %d days; destroy deletes the bucket unless --keep-logs", env.Cfg.Logs.RetentionDays)
	}
	return "destroy keeps the bucket and its boards unless --delete-data"
}
