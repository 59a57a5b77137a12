package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// S3Location is where a remote state lives: s3://Bucket/Key, its lock at
// Key + ".lock".
type S3Location struct {
	Bucket string
	Key    string
}

// URL is s3://bucket/key.
func (l S3Location) URL() string { return "s3://" + l.Bucket + "/" + l.Key }

// LockKey is the key of the lock object.
func (l S3Location) LockKey() string { return l.Key + ".lock" }

// maxConflictRetries bounds the retries of a conditional write answered 409
// ConditionalRequestConflict (another operation completed during the upload).
const maxConflictRetries = 5

// OpenS3 locks and loads the state of stack stored at loc, through api (a
// client in the state bucket's region, with the state bucket's credentials).
//
// The lock is an object created only if absent (PutObject If-None-Match: *)
// holding who, where, when and which command; a second writer fails at once
// with *LockedError naming it. It is released by a delete conditional on its
// ETag, and never taken over automatically: a run that died leaves it, and
// `wbo-deploy state unlock LOCK_ID` removes it (ForceUnlock). A read-only
// open takes no lock (S3 has no shared locks) but refuses while a writer
// holds one, like the local shared lock.
//
// Every write of the state is conditional on the ETag this Store read or
// last wrote (If-Match; If-None-Match: * for the first), so even with a
// broken lock a write can never replace a version it has not seen: it fails
// with *ConflictError instead.
func OpenS3(ctx context.Context, api awsclients.S3StateAPI, loc S3Location, stack string, opts Options) (*Store, error) {
	if loc.Bucket == "" || loc.Key == "" {
		return nil, fmt.Errorf("open state %s: bucket and key must both be set", loc.URL())
	}
	// State writes must happen even after Ctrl-C cancelled the run (they
	// record what was created), so they do not inherit its cancellation.
	return open(&s3Backend{api: api, loc: loc, ctx: context.WithoutCancel(ctx)}, stack, opts)
}

type s3Backend struct {
	api awsclients.S3StateAPI
	loc S3Location
	ctx context.Context

	etag     string // of the state version read or last written; "" = none
	lockETag string // of our lock object; "" = not holding it
}

func (b *s3Backend) where() string { return b.loc.URL() }

func (b *s3Backend) lock(me Holder, readOnly bool) (*Holder, error) {
	if readOnly {
		h, _, err := readLock(b.ctx, b.api, b.loc)
		switch {
		case err != nil:
			return nil, err
		case h != nil:
			return nil, &LockedError{Path: b.where(), LockPath: b.loc.Bucket + "/" + b.loc.LockKey(), Holder: h, Remote: true}
		}
		return nil, nil
	}
	me.ID = newLockID()
	me.Path = b.where()
	body := encodeHolder(me)
	for range maxConflictRetries {
		out, err := b.api.PutObject(b.ctx, &s3.PutObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(b.loc.LockKey()),
			Body: bytes.NewReader(body), IfNoneMatch: aws.String("*"), ContentType: aws.String("application/json")})
		switch {
		case err == nil:
			b.lockETag = aws.ToString(out.ETag)
			return nil, nil
		case awserr.IsConditionalConflict(err):
			continue // another lock or unlock completed meanwhile: ask again
		case awserr.IsPreconditionFailed(err):
			h, _, rerr := readLock(b.ctx, b.api, b.loc)
			if rerr != nil {
				return nil, rerr
			}
			if h == nil {
				continue // released meanwhile
			}
			return nil, &LockedError{Path: b.where(), LockPath: b.loc.Bucket + "/" + b.loc.LockKey(), Holder: h, Remote: true}
		default:
			return nil, s3StateError("lock state", b.loc, err)
		}
	}
	return nil, fmt.Errorf("lock state %s: the lock object kept changing while locking it; try again", b.where())
}

func (b *s3Backend) unlock() error {
	if b.lockETag == "" {
		return nil
	}
	_, err := b.api.DeleteObject(b.ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(b.loc.LockKey()),
		IfMatch: aws.String(b.lockETag)})
	b.lockETag = ""
	switch {
	case err == nil, awserr.IsNoSuchKey(err):
		return nil // released (or removed by state unlock meanwhile)
	case awserr.IsPreconditionFailed(err):
		return fmt.Errorf("release lock of state %s: the lock is no longer this run's (it was removed with `state unlock` and taken by another run); left it in place", b.where())
	}
	return s3StateError("release lock of state", b.loc, err)
}

func (b *s3Backend) read() ([]byte, bool, error) {
	out, err := b.api.GetObject(b.ctx, &s3.GetObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(b.loc.Key)})
	if awserr.IsNoSuchKey(err) {
		b.etag = ""
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s3StateError("read state", b.loc, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, false, fmt.Errorf("read state %s: %w", b.where(), err)
	}
	b.etag = aws.ToString(out.ETag)
	return data, true, nil
}

func (b *s3Backend) write(data []byte) error {
	for range maxConflictRetries {
		in := &s3.PutObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(b.loc.Key), Body: bytes.NewReader(data),
			ContentType: aws.String("application/json")}
		if b.etag == "" {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = aws.String(b.etag)
		}
		out, err := b.api.PutObject(b.ctx, in)
		switch {
		case err == nil:
			b.etag = aws.ToString(out.ETag)
			return nil
		case awserr.IsConditionalConflict(err):
			// Fetch the ETag: if the object is still the one we know,
			// retry; otherwise someone else wrote it.
			cur, herr := b.currentETag()
			if herr != nil {
				return herr
			}
			if cur != b.etag {
				return &ConflictError{Path: b.where(), Expected: b.etag, Found: cur}
			}
		case awserr.IsPreconditionFailed(err), awserr.IsNoSuchKey(err):
			cur, _ := b.currentETag()
			return &ConflictError{Path: b.where(), Expected: b.etag, Found: cur}
		default:
			return s3StateError("write state", b.loc, err)
		}
	}
	return fmt.Errorf("write state %s: conditional write kept conflicting; try again", b.where())
}

// currentETag is the state object's ETag now ("" when it does not exist).
func (b *s3Backend) currentETag() (string, error) {
	out, err := b.api.HeadObject(b.ctx, &s3.HeadObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(b.loc.Key)})
	if awserr.IsNoSuchKey(err) {
		return "", nil
	}
	if err != nil {
		return "", s3StateError("read state", b.loc, err)
	}
	return aws.ToString(out.ETag), nil
}

func (b *s3Backend) remove() error {
	if b.etag == "" {
		return nil
	}
	_, err := b.api.DeleteObject(b.ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(b.loc.Key),
		IfMatch: aws.String(b.etag)})
	switch {
	case err == nil, awserr.IsNoSuchKey(err):
		b.etag = ""
		return nil
	case awserr.IsPreconditionFailed(err):
		cur, _ := b.currentETag()
		return &ConflictError{Path: b.where(), Expected: b.etag, Found: cur}
	}
	return s3StateError("delete state", b.loc, err)
}

func (b *s3Backend) cleanup() error { return nil }

func (b *s3Backend) retire() (string, error) {
	if err := b.remove(); err != nil {
		return "", err
	}
	return "deleted; its last version stays in the bucket's version history (state init-backend turns versioning on)", nil
}

// readLock returns the holder recorded in the lock object, and the object's
// ETag; nil when there is no lock.
func readLock(ctx context.Context, api awsclients.S3StateAPI, loc S3Location) (*Holder, string, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.LockKey())})
	if awserr.IsNoSuchKey(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", s3StateError("read lock of state", loc, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("read lock of state %s: %w", loc.URL(), err)
	}
	var h Holder
	if json.Unmarshal(data, &h) != nil || h.ID == "" {
		// Not a lock this tool wrote: still a lock. Report what we can.
		h = Holder{ID: "(unreadable lock object)", Path: loc.URL()}
		if out.LastModified != nil {
			h.Started = *out.LastModified
		}
	}
	return &h, aws.ToString(out.ETag), nil
}

// ReadS3Lock reports who holds the lock of the state at loc (nil: nobody).
func ReadS3Lock(ctx context.Context, api awsclients.S3StateAPI, loc S3Location) (*Holder, error) {
	h, _, err := readLock(ctx, api, loc)
	return h, err
}

// ForceUnlock removes the lock of the state at loc if its ID is id: for a
// holder that died without releasing it. It returns the holder removed. A
// lock with another ID (the holder finished and another run locked since)
// is left alone.
func ForceUnlock(ctx context.Context, api awsclients.S3StateAPI, loc S3Location, id string) (*Holder, error) {
	h, etag, err := readLock(ctx, api, loc)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("state %s is not locked (nothing to unlock)", loc.URL())
	}
	if h.ID != id {
		return nil, &LockIDError{Path: loc.URL(), Given: id, Holder: h}
	}
	_, err = api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.LockKey()), IfMatch: aws.String(etag)})
	switch {
	case err == nil, awserr.IsNoSuchKey(err):
		return h, nil
	case awserr.IsPreconditionFailed(err):
		return nil, fmt.Errorf("unlock state %s: the lock changed while unlocking it (its holder released it, another run may hold it now); check with `wbo-deploy state show`", loc.URL())
	}
	return nil, s3StateError("unlock state", loc, err)
}

func newLockID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a time-based
		// ID is still unique enough for a human to name a lock.
		return fmt.Sprintf("t%x", time.Now().UnixNano())
	}
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// s3StateError says what could not be done with the state bucket, with the
// way out for the common causes.
func s3StateError(what string, loc S3Location, err error) error {
	switch {
	case awserr.IsNoSuchBucket(err):
		return fmt.Errorf("%s %s: the state bucket %s does not exist (create it with `wbo-deploy state init-backend`): %w", what, loc.URL(), loc.Bucket, err)
	case awserr.IsAccessDenied(err):
		return fmt.Errorf("%s %s: access denied (the state bucket's credentials need the actions `wbo-deploy iam-policy` lists for it): %w", what, loc.URL(), err)
	case awserr.HasCode(err, "PermanentRedirect", "AuthorizationHeaderMalformed"):
		return fmt.Errorf("%s %s: the state bucket is in another region than state.region: %w", what, loc.URL(), err)
	}
	return fmt.Errorf("%s %s: %w", what, loc.URL(), err)
}
