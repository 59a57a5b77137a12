package sidecar

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// Config is what the restore and backup containers of one task need.
type Config struct {
	Bucket       string // S3 bucket holding the boards
	Prefix       string // key prefix of the board objects, "" or ending in "/" (e.g. "boards/")
	DataDir      string // board directory inside the containers (the task volume), e.g. "/data"
	SyncInterval int    // seconds between two backups
	Keys         []byte // shard keys this task owns; empty = every board
	Region       string // optional: AWS_DEFAULT_REGION for the CLI (ECS sets AWS_REGION on Fargate)
	UID, GID     int    // optional: owner given to the restored files; 0 = WBO's 1000

	// The lease handed over between the old and the new task of one shard
	// (see the package doc). LeaseName "" = no lease: for services whose
	// tasks legitimately run side by side (shared mode).
	LeaseName string // WBO_LEASE_NAME, e.g. the ECS service name "wbo-shard-0"
	LeaseTTL  int    // seconds after its last heartbeat a lease is stale; 0 = DefaultLeaseTTL
	LeaseWait int    // seconds restore waits at most for a live lease; 0 = DefaultLeaseWait
	// Cluster (WBO_CLUSTER, with a LeaseName only): the ECS cluster restore
	// asks (DescribeTasks) whether the task holding the lease has stopped,
	// so a crashed task's shard need not wait for its lease to go stale.
	Cluster string
}

// Lease defaults. A stopping task writes a last heartbeat when its backup
// gets SIGTERM and releases the lease after its final sync, which ECS cuts
// off at the backup's stopTimeout (120 s at most on Fargate): a TTL above
// that never declares a task stale during its final sync. The wait covers a
// full TTL, so a dead owner's lease always goes stale before restore gives
// up waiting.
const (
	DefaultLeaseTTL  = 150
	DefaultLeaseWait = 300
	MaxLeaseSeconds  = 3600
	minLeaseTTL      = 10
)

// FieldError names the Config field that is wrong.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("sidecar %s %q: %s", e.Field, e.Value, e.Reason)
}

var (
	// S3 bucket naming rules (general purpose buckets): 3-63 characters,
	// lower-case letters, digits, dots and hyphens, starting and ending with
	// a letter or digit.
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// Prefix characters that neither the shell nor the CLI's --include
	// patterns (Python fnmatch, which the prefix is joined into) treat
	// specially.
	prefixRE = regexp.MustCompile(`^[A-Za-z0-9!_.'()/=+,@-]*$`)
	dirRE    = regexp.MustCompile(`^/[A-Za-z0-9_./-]*$`)
	// Lease names: ECS service names (letters, digits, _ and -, at most 255)
	// plus dots; one key segment, no leading dot.
	leaseRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}$`)
	// ECS cluster names: letters, digits, _ and -, at most 255.
	clusterRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
)

// MaxSyncInterval bounds SyncInterval: a longer interval only widens the
// window of edits lost if a task dies without its final sync.
const MaxSyncInterval = 3600

// Validate checks every field and returns the first problem as *FieldError.
func (c Config) Validate() error {
	switch {
	case !bucketRE.MatchString(c.Bucket) || strings.Contains(c.Bucket, ".."):
		return &FieldError{"bucket", c.Bucket, "not a valid S3 bucket name"}
	case !prefixRE.MatchString(c.Prefix):
		return &FieldError{"prefix", c.Prefix, "only letters, digits, / and !_.'()=+,@- are allowed"}
	case c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/"):
		return &FieldError{"prefix", c.Prefix, `must end with "/"`}
	case strings.HasPrefix(c.Prefix, "/") || strings.Contains(c.Prefix, "//"):
		return &FieldError{"prefix", c.Prefix, `must not start with "/" or contain "//"`}
	case !dirRE.MatchString(c.DataDir) || path.Clean(c.DataDir) != c.DataDir || c.DataDir == "/":
		return &FieldError{"data dir", c.DataDir, "must be a clean absolute path other than / (letters, digits, _ . - /)"}
	case c.SyncInterval < 1 || c.SyncInterval > MaxSyncInterval:
		return &FieldError{"sync interval", strconv.Itoa(c.SyncInterval), fmt.Sprintf("must be 1..%d seconds", MaxSyncInterval)}
	case c.UID < 0:
		return &FieldError{"uid", strconv.Itoa(c.UID), "must not be negative"}
	case c.GID < 0:
		return &FieldError{"gid", strconv.Itoa(c.GID), "must not be negative"}
	}
	if err := c.validateLease(); err != nil {
		return err
	}
	for _, k := range c.Keys {
		if !shard.ValidKey(k) {
			return &FieldError{"keys", shard.FormatKeys(c.Keys), fmt.Sprintf("key %02x is an upper-case letter; keys are lower-cased", k)}
		}
	}
	return nil
}

func (c Config) validateLease() error {
	ttl, wait := c.leaseTimes()
	switch {
	case c.LeaseName == "" && (c.LeaseTTL != 0 || c.LeaseWait != 0 || c.Cluster != ""):
		return &FieldError{"lease name", "", "must be set when the lease TTL, wait or cluster is"}
	case c.Cluster != "" && !clusterRE.MatchString(c.Cluster):
		return &FieldError{"cluster", c.Cluster, "not an ECS cluster name (letters, digits, _ and -, at most 255)"}
	case c.LeaseName != "" && !leaseRE.MatchString(c.LeaseName):
		return &FieldError{"lease name", c.LeaseName, "only letters, digits and _ . - (at most 255, not starting with .) are allowed"}
	case ttl < minLeaseTTL || ttl > MaxLeaseSeconds:
		return &FieldError{"lease ttl", strconv.Itoa(c.LeaseTTL), fmt.Sprintf("must be %d..%d seconds (0 = %d)", minLeaseTTL, MaxLeaseSeconds, DefaultLeaseTTL)}
	case wait < ttl || wait > MaxLeaseSeconds:
		return &FieldError{"lease wait", strconv.Itoa(c.LeaseWait), fmt.Sprintf("must be %d..%d seconds, at least the lease TTL so that a dead owner's lease goes stale first (0 = %d)", ttl, MaxLeaseSeconds, DefaultLeaseWait)}
	}
	return nil
}

// leaseTimes returns LeaseTTL and LeaseWait with their defaults applied.
func (c Config) leaseTimes() (ttl, wait int) {
	ttl, wait = c.LeaseTTL, c.LeaseWait
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	if wait == 0 {
		wait = DefaultLeaseWait
	}
	return ttl, wait
}

// Vars returns the environment of the restore and backup containers as
// name/value pairs sorted by name (a stable order, so that comparing two
// generated task definitions shows real changes only). Variables with empty
// values are left out: WBO_SHARD_KEYS absent means every board, and the
// WBO_LEASE_* variables are set only with a LeaseName.
func (c Config) Vars() ([][2]string, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	vars := [][2]string{
		{"WBO_BUCKET", c.Bucket},
		{"WBO_DATA_DIR", c.DataDir},
		{"WBO_PREFIX", c.Prefix},
		{"WBO_SHARD_KEYS", shard.FormatKeys(c.Keys)},
		{"WBO_SYNC_INTERVAL", strconv.Itoa(c.SyncInterval)},
		{"AWS_DEFAULT_REGION", c.Region},
	}
	if c.UID != 0 {
		vars = append(vars, [2]string{"WBO_UID", strconv.Itoa(c.UID)})
	}
	if c.GID != 0 {
		vars = append(vars, [2]string{"WBO_GID", strconv.Itoa(c.GID)})
	}
	if c.LeaseName != "" {
		ttl, wait := c.leaseTimes()
		vars = append(vars, [2]string{"WBO_LEASE_NAME", c.LeaseName},
			[2]string{"WBO_LEASE_TTL", strconv.Itoa(ttl)}, [2]string{"WBO_LEASE_WAIT", strconv.Itoa(wait)},
			[2]string{"WBO_CLUSTER", c.Cluster})
	}
	vars = slices.DeleteFunc(vars, func(v [2]string) bool { return v[1] == "" })
	slices.SortFunc(vars, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return vars, nil
}

// Env returns Vars as ECS container environment entries.
func (c Config) Env() ([]ecstypes.KeyValuePair, error) {
	vars, err := c.Vars()
	if err != nil {
		return nil, err
	}
	env := make([]ecstypes.KeyValuePair, len(vars))
	for i, v := range vars {
		env[i] = ecstypes.KeyValuePair{Name: aws.String(v[0]), Value: aws.String(v[1])}
	}
	return env, nil
}

// Environ returns Vars as NAME=value strings (os/exec style).
func (c Config) Environ() ([]string, error) {
	vars, err := c.Vars()
	if err != nil {
		return nil, err
	}
	env := make([]string, len(vars))
	for i, v := range vars {
		env[i] = v[0] + "=" + v[1]
	}
	return env, nil
}
