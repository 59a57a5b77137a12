// Package awssim is wbo-deploy's simulated AWS, for tests only.
//
// It is not a mock of our interfaces: Cloud.APIOptions installs a middleware at
// the very bottom of each real SDK client's stack (after parameter validation,
// serialization, signing and the retryer), which answers the operation from
// in-process state instead of sending the HTTP request. The SDK's retryer,
// waiters and paginators run unchanged against it, and errors are smithy API
// errors carrying the real AWS error codes, wrapped by the SDK as over the wire.
//
// Each service lives in its own file and registers itself with register(); a
// service is a value whose methods are named after the API operations, with the
// signature func(ctx, *svc.XInput) (*svc.XOutput, error). An operation the
// simulation does not implement answers an error naming it, so a test fails
// loudly instead of passing on a silent no-op.
//
// Behaviour follows ../shared/reference/aws-behaviour.md: asynchronous states
// (driven by a scaled wall clock so waiters poll for real), eventual consistency
// windows (consistency.go), DependencyViolation and friends, lingering ENIs,
// per-API token-bucket throttling (throttle.go) and fault injection.
package awssim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Options configure a Cloud.
type Options struct {
	Account string  // default 123456789012
	Region  string  // default us-east-1
	Scale   float64 // wall seconds per AWS second (default 1e-4: 10 AWS minutes = 60 ms)
	Timing  *Timing // default RealisticTiming()
	Seed    int64   // for consistency windows, server errors and latency
	// ConsistencyMisses pins every consistency window (consistency.go) to
	// that many missed reads, with no time bound; negative turns them all
	// off. Default 0: each window draws its misses from the documented
	// bounds with the seeded RNG.
	ConsistencyMisses int
	// NoThrottling turns the per-API token buckets off (throttle.go).
	NoThrottling bool
	// Buckets is the global S3 bucket namespace, shared by the Clouds
	// (accounts) given the same one (s3names.go); nil: a namespace of its own.
	Buckets *BucketNamespace
}

// Cloud is one simulated AWS account in one region.
type Cloud struct {
	Account string
	Region  string
	Scale   float64
	Timing  Timing

	mu       sync.Mutex
	rnd      *rand.Rand
	services map[string]any // SDK service ID -> handler
	calls    []Call
	faults   faults
	crashed  bool
	seq      int64
	cons     consistency      // eventual consistency windows (consistency.go)
	buckets  throttle         // per-API token buckets (throttle.go)
	clock    func() time.Time // nil: time.Now (white-box tests set it)
	seed     int64            // Options.Seed, for order-independent draws
	raw      []rawRule        // raw HTTP answers (rawresponse.go)
	bucketNS *BucketNamespace // global bucket names (s3names.go)

	identities map[string]*identity // by access key ID (authz.go); none: the root user
	slr        map[string]bool      // services whose service-linked role exists
}

// Call is one operation attempt the simulated cloud received.
type Call struct {
	Service   string
	Operation string
	Mutating  bool
	Err       string // error code returned, if any
	Performed bool   // the operation took effect
	// AccessKey signed the request; Actions are the IAM actions the call was
	// authorized as (authz_actions.go), implicit ones included; a denied
	// call lists those allowed before the refused one.
	AccessKey string
	Actions   []string
}

var registry = map[string]func(*Cloud) any{}

// register adds a service constructor; serviceID is the SDK's ServiceID
// ("EC2", "Elastic Load Balancing v2", ...).
func register(serviceID string, newSvc func(*Cloud) any) { registry[serviceID] = newSvc }

// New makes an empty account.
func New(o Options) *Cloud {
	c := &Cloud{Account: o.Account, Region: o.Region, Scale: o.Scale}
	if c.Account == "" {
		c.Account = "123456789012"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Scale == 0 {
		c.Scale = 1e-4
	}
	if o.Timing != nil {
		c.Timing = *o.Timing
	} else {
		c.Timing = RealisticTiming()
	}
	c.rnd = rand.New(rand.NewSource(o.Seed))
	c.seed = o.Seed
	c.cons.init(o.ConsistencyMisses)
	c.buckets.init(!o.NoThrottling)
	c.bucketNS = o.Buckets
	if c.bucketNS == nil {
		c.bucketNS = NewBucketNamespace()
	}
	c.services = map[string]any{}
	for id, mk := range registry {
		c.services[id] = mk(c)
	}
	return c
}

// Service returns the handler for an SDK service ID (for white-box tests).
func (c *Cloud) Service(id string) any { return c.services[id] }

// wall converts an AWS duration to wall time.
func (c *Cloud) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.Scale)
}

// now is the one clock the simulation reads: every deadline, window and
// token bucket is computed from it (a virtual-time harness can replace it).
func (c *Cloud) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

// deadline returns when something taking d (AWS time) started now will be done.
func (c *Cloud) deadline(d time.Duration) time.Time { return c.now().Add(c.wall(d)) }

// newID returns prefix-<17 hex digits>, as EC2 IDs look.
func (c *Cloud) newID(prefix string) string {
	c.seq++
	return fmt.Sprintf("%s-%017x", prefix, uint64(c.seq)*0x9e3779b97f4a7c15>>4)
}

// apiError builds the error AWS would answer.
func apiError(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// serverError is a 5xx answer; the SDK retries it.
type serverError struct{ status int }

func (e *serverError) Error() string     { return fmt.Sprintf("simulated %d InternalError", e.status) }
func (e *serverError) ErrorCode() string { return "InternalError" }
func (e *serverError) ErrorMessage() string {
	return "We encountered an internal error. Please try again."
}
func (e *serverError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }
func (e *serverError) HTTPStatusCode() int           { return e.status }

// ErrCrashed is what every call gets after a simulated crash, until Revive.
// It is not retryable: the process is "dead".
var ErrCrashed = errors.New("awssim: simulated crash: the process is dead")

// ErrResponseLost is returned when AWS performed a call but the response never
// arrived (connection dropped, process killed).
var ErrResponseLost = errors.New("awssim: response lost after the call was performed")

type ctxKey struct{}

type accessKeyCtx struct{}

// APIOptions returns the middleware that routes every SDK operation to c.
// Pass it as awsclients.Options.APIOptions.
func (c *Cloud) APIOptions() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("awssim.capture",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(context.WithValue(ctx, ctxKey{}, in.Parameters), in)
			}), middleware.Before); err != nil {
			return err
		}
		if err := st.Deserialize.Add(rawTransport(), middleware.After); err != nil {
			return err
		}
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("awssim.dispatch",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				// Read the serialized body as a transport would: streaming
				// checksums (S3 PutObject's trailers) are computed while it
				// is read, and the SDK checks them after the call.
				if r, ok := in.Request.(*smithyhttp.Request); ok {
					if body := r.GetStream(); body != nil {
						_, _ = io.Copy(io.Discard, body)
					}
				}
				// An operation given a raw HTTP answer goes on to the SDK's
				// real deserializer instead (rawresponse.go).
				if raw, ok := c.rawAnswer(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), ctx.Value(ctxKey{})); ok {
					return next.HandleFinalize(context.WithValue(ctx, rawCtxKey{}, raw), in)
				}
				ctx = context.WithValue(ctx, accessKeyCtx{}, accessKeyOf(in.Request))
				out, err := c.dispatch(ctx, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), ctx.Value(ctxKey{}))
				return middleware.FinalizeOutput{Result: out}, middleware.Metadata{}, err
			}), middleware.After)
	}}
}

// IsMutating classifies an operation by its name, as IAM policies do.
func IsMutating(op string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Head", "Filter", "Lookup"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return op != "StartQuery" // a Logs Insights query reads only
}

func (c *Cloud) dispatch(ctx context.Context, service, op string, params any) (any, error) {
	mut := IsMutating(op)
	c.mu.Lock()
	if c.crashed {
		c.calls = append(c.calls, Call{Service: service, Operation: op, Mutating: mut, Err: "Crashed"})
		c.mu.Unlock()
		return nil, ErrCrashed
	}
	rec := len(c.calls)
	key, _ := ctx.Value(accessKeyCtx{}).(string)
	c.calls = append(c.calls, Call{Service: service, Operation: op, Mutating: mut, AccessKey: key})
	who, authErr := c.authenticate(service, key)
	if authErr != nil {
		c.calls[rec].Err = authErr.(*authzError).code
		c.mu.Unlock()
		return nil, authErr
	}
	ctx = context.WithValue(ctx, callerKey{}, who)
	act := c.faults.decide(c, service, op, params, mut)
	svc := c.services[service]
	latency := c.faults.latency(c)
	c.mu.Unlock()

	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch act {
	case actThrottle:
		c.note(rec, "Throttling", false)
		return nil, &smithy.GenericAPIError{Code: throttleCode(service), Message: "Rate exceeded", Fault: smithy.FaultClient}
	case actServerError:
		c.note(rec, "InternalError", false)
		return nil, &serverError{status: 500}
	case actCrashBefore:
		c.crash(rec)
		return nil, ErrCrashed
	}
	if svc == nil {
		return nil, fmt.Errorf("awssim: service %q is not simulated (operation %s)", service, op)
	}
	m := reflect.ValueOf(svc).MethodByName(op)
	if !m.IsValid() {
		return nil, fmt.Errorf("awssim: %s.%s is not simulated", service, op)
	}
	acts, err := c.authorize(ctx, service, op, params)
	c.mu.Lock()
	if rec < len(c.calls) {
		c.calls[rec].Actions = acts
	}
	c.mu.Unlock()
	if err != nil {
		c.note(rec, err.(*authzError).code, false)
		return nil, err
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(params)})
	if e := res[1].Interface(); e != nil {
		err = e.(error)
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	} else if err != nil {
		code = err.Error()
	}
	c.note(rec, code, err == nil)
	switch act {
	case actCrashAfter:
		c.crash(rec)
		return nil, ErrResponseLost
	case actLoseResponse:
		return nil, ErrResponseLost
	}
	if err != nil {
		return nil, err
	}
	return res[0].Interface(), nil
}

func (c *Cloud) note(i int, code string, performed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < len(c.calls) {
		c.calls[i].Err = code
		c.calls[i].Performed = performed
	}
}

func (c *Cloud) crash(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.crashed = true
	if i < len(c.calls) && c.calls[i].Err == "" {
		c.calls[i].Err = "Crashed"
	}
}

// Crashed reports whether a simulated crash happened since the last Revive.
func (c *Cloud) Crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// Revive ends a simulated crash (a new process starts) and clears faults.
func (c *Cloud) Revive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.crashed = false
	c.faults = faults{}
	c.buckets.next = 0
}

// Calls returns every attempt received so far.
func (c *Cloud) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// ResetCalls forgets the recorded calls (counters restart at zero).
func (c *Cloud) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
	c.faults.mutSeen = 0
}

// MutatingCalls returns the mutating operations that took effect, as
// "Service.Operation" strings, in order.
func (c *Cloud) MutatingCalls() []string {
	var out []string
	for _, k := range c.Calls() {
		if k.Mutating && k.Performed {
			out = append(out, k.Service+"."+k.Operation)
		}
	}
	return out
}

func throttleCode(service string) string {
	switch service {
	case "EC2":
		return "RequestLimitExceeded"
	case "S3":
		return "SlowDown"
	case "ECS", "CloudWatch Logs", "Application Auto Scaling", "KMS", "ACM":
		return "ThrottlingException" // ACM: "The request was denied because it exceeded a quota" (ACM API reference, ThrottlingException)
	case "SNS":
		return "Throttled" // SNS API reference, ThrottledException
	default:
		return "Throttling"
	}
}

// Resource is one live resource of the account, for leak and duplicate checks.
type Resource struct {
	Service string
	Kind    string
	ID      string
	Tags    map[string]string
}

// inventorier is implemented by services that hold resources.
type inventorier interface{ inventory() []Resource }

// Inventory lists every live resource of the account, sorted.
func (c *Cloud) Inventory() []Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Resource
	for _, s := range c.services {
		if inv, ok := s.(inventorier); ok {
			out = append(out, inv.inventory()...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// lock/unlock are for service implementations: every service method takes the
// account lock for its whole body, so the simulated account is consistent.
func (c *Cloud) lock()   { c.mu.Lock() }
func (c *Cloud) unlock() { c.mu.Unlock() }
