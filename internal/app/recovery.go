package app

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/sidecar"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// BackupStatus is one shard's recovery point in status: what its backup
// published with its last lease heartbeat (sidecar.ParseLease).
type BackupStatus struct {
	Shard   int    `json:"shard"`
	Service string `json:"service"`
	// Published: false when the shard has no lease (no task running, or
	// one stopped cleanly): nothing to judge.
	Published bool `json:"published"`
	// RecoveryPoint is the time of the last successful backup sync: every
	// change WBO had saved before it is in S3. AgeSeconds is its age now.
	RecoveryPoint *time.Time `json:"recovery_point,omitempty"`
	AgeSeconds    *int64     `json:"age_seconds,omitempty"`
	Boards        int        `json:"boards"`
	Bytes         int64      `json:"bytes"`
	Stale         bool       `json:"stale"` // older than MaxAgeSeconds: backups failing or the task gone
	MaxAgeSeconds int64      `json:"max_age_seconds"`
	Problem       string     `json:"problem,omitempty"`
}

// recoveryPoints reads each shard's lease (one GetObject per shard; none in
// shared mode, whose tasks hold no lease).
func recoveryPoints(ctx context.Context, cfg *config.Config, c *awsclients.Clients, now time.Time) []BackupStatus {
	if cfg.App.Mode == config.ModeShared {
		return nil
	}
	bucket := cfg.BoardBucket(c.Account, c.Region)
	maxAge := sidecar.RecoveryPointMaxAge(0, cfg.Storage.SyncInterval)
	var out []BackupStatus
	for i, svc := range cfg.ServiceNames() {
		b := BackupStatus{Shard: i, Service: svc, MaxAgeSeconds: int64(maxAge / time.Second)}
		key := sidecar.LeaseKey(cfg.Storage.Prefix, svc)
		res, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		switch {
		case err != nil && (awserr.IsNotFound(err) || awserr.HasCode(err, "NoSuchKey", "NoSuchBucket", "NotFound")):
			out = append(out, b)
			continue
		case err != nil:
			b.Problem = fmt.Sprintf("cannot read s3://%s/%s: %v", bucket, key, err)
			out = append(out, b)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 4096))
		_ = res.Body.Close()
		var l sidecar.Lease
		if err == nil {
			l, err = sidecar.ParseLease(string(body))
		}
		if err != nil {
			b.Problem = fmt.Sprintf("s3://%s/%s: %v", bucket, key, err)
			out = append(out, b)
			continue
		}
		b.Published, b.Boards, b.Bytes = true, l.Boards, l.Bytes
		point := l.LastBackup
		if point.IsZero() { // no successful sync yet: as old as the heartbeat says at least
			point = l.Heartbeat
			b.Problem = "no successful backup yet"
		}
		age := int64(now.Sub(point) / time.Second)
		b.RecoveryPoint, b.AgeSeconds = &point, &age
		if now.Sub(point) > maxAge {
			b.Stale = true
			b.Problem = fmt.Sprintf("last successful backup %s ago (at most %s expected): backups are failing or the task is gone",
				(time.Duration(age) * time.Second).String(), maxAge)
		}
		out = append(out, b)
	}
	return out
}

// renderBackups is status's recovery-point table (text output).
func renderBackups(s *ui.Streams, bs []BackupStatus) {
	if len(bs) == 0 {
		return
	}
	var rows [][]string
	for _, b := range bs {
		point, detail := "-", "no backup running (no lease)"
		if b.Published {
			point = (time.Duration(*b.AgeSeconds) * time.Second).String() + " ago"
			detail = ""
			if b.Stale {
				point = s.Bad(point)
			}
		}
		if b.Problem != "" {
			detail = b.Problem
		}
		rows = append(rows, []string{strconv.Itoa(b.Shard), b.Service, point, strconv.Itoa(b.Boards), strconv.FormatInt(b.Bytes, 10), detail})
	}
	fmt.Fprintln(s.Out)
	ui.Table(s.Out, []string{"SHARD", "SERVICE", "RECOVERY POINT", "BOARDS", "BYTES", "DETAIL"}, rows)
}
