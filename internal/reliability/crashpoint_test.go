package reliability

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// A crashPoint crashes a run at the n-th mutating call that match selects
// (awssim's CrashAt counts every mutating call alike). The S3-state sweeps
// use it to crash at each state write or lock operation by its rank among
// them, whatever the engine's concurrency made of the order of the other
// calls in that run, and at a sample of the other calls by their rank among
// those.
//
// A crashPoint with n == 0 never crashes: it counts (probe runs).
//
// It sits in the SDK's finalize step just before the simulated cloud, so it
// sees every attempt (retries too) as awssim does. The n-th matching attempt
// runs alone among the mutating attempts (a write lock; the others hold a
// read lock while they are in the cloud), with awssim armed to crash at the
// next mutating call: that call is this one, in the mode asked for. An
// attempt refused by throttling never reaches the account's decision to
// act, for awssim as for AWS, so it is not counted and its retry takes its
// rank.
type crashPoint struct {
	match func(service, op string, params any) bool
	n     int
	mode  awssim.CrashMode

	exclusive sync.RWMutex
	mu        sync.Mutex
	matched   int // matching attempts that reached the account
	others    int // the other mutating attempts that did
	fired     bool
}

type crashParamsKey struct{}

// option is the APIOptions entry that installs the crash point for cloud.
func (p *crashPoint) option(cloud *awssim.Cloud) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("reliability.crashpoint.params",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(context.WithValue(ctx, crashParamsKey{}, in.Parameters), in)
			}), middleware.Before); err != nil {
			return err
		}
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("reliability.crashpoint",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				return p.handle(ctx, cloud, in, next)
			}), "awssim.dispatch", middleware.Before)
	}
}

func (p *crashPoint) handle(ctx context.Context, cloud *awssim.Cloud, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	if !awssim.IsMutating(op) {
		return next.HandleFinalize(ctx, in)
	}
	matches := p.match(service, op, ctx.Value(crashParamsKey{}))
	p.mu.Lock()
	count := &p.others
	if matches {
		count = &p.matched
	}
	*count++
	hit := matches && p.n > 0 && !p.fired && p.matched == p.n
	p.mu.Unlock()
	uncount := func(err error) {
		if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
			p.mu.Lock()
			*count--
			p.mu.Unlock()
		}
	}
	if !hit {
		p.exclusive.RLock()
		defer p.exclusive.RUnlock()
		out, md, err := next.HandleFinalize(ctx, in)
		uncount(err)
		return out, md, err
	}
	p.exclusive.Lock()
	defer p.exclusive.Unlock()
	alive := !cloud.Crashed()
	cloud.CrashAt(1, p.mode)
	out, md, err := next.HandleFinalize(ctx, in)
	if alive && cloud.Crashed() {
		p.mu.Lock()
		p.fired = true
		p.mu.Unlock()
	} else {
		cloud.CrashAt(0, p.mode) // not reached (throttled): disarm, the retry is the n-th
		uncount(err)
	}
	return out, md, err
}

// counts returns the matching and the other mutating attempts seen, and
// whether the crash happened.
func (p *crashPoint) counts() (matched, others int, fired bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.matched, p.others, p.fired
}

// check reports an error unless the crash happened at the call the point
// chose: the cloud was alive when that call went in alone (no other
// mutating call in flight, and only a mutating call crashes) and dead when
// it came back.
func (p *crashPoint) check() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.fired {
		return fmt.Errorf("the run never reached the call to crash at")
	}
	return nil
}

// stateOp selects the remote state's own mutating calls: the state object's
// writes and deletion, and the lock's creation and release (PutObject and
// DeleteObject in the state bucket; the stack itself writes no object).
func stateOp(service, op string, params any) bool {
	if service != "S3" {
		return false
	}
	switch in := params.(type) {
	case *s3.PutObjectInput:
		return aws.ToString(in.Bucket) == stateBucket
	case *s3.DeleteObjectInput:
		return aws.ToString(in.Bucket) == stateBucket
	}
	return false
}

// notStateOp selects every other mutating call: the stack's resources.
func notStateOp(service, op string, params any) bool { return !stateOp(service, op, params) }
