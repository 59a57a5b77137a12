package sidecar

import (
	"strconv"
	"time"
)

// The loss window of a task that dies without SIGTERM (a host failure, a
// crash of the whole task): the edits WBO acknowledged but that were not in
// S3 yet. On a normal stop nothing is lost (WBO saves every board on SIGTERM
// and the backup's final sync carries that to S3).
//
// WBO saves a board WBO_SAVE_INTERVAL after its last change, but while edits
// keep coming only WBO_MAX_SAVE_DELAY after the first unsaved change
// (server/configuration.mjs; its defaults 2 s and 60 s); the backup copies
// the file at its next sync, every storage.sync_interval seconds, and the
// copy is in S3 when that sync's upload ends. So an edit is in S3 at most
//
//	max save delay + sync interval + one sync's duration
//
// after WBO acknowledged it. WBO's 60 s default would dominate that window,
// so wbo-deploy sets WBO's delays from storage.sync_interval (SaveEnv): the
// max save delay equals the sync interval, and the window is about twice
// the sync interval plus one upload.

// minSaveInterval is WBO's own default WBO_SAVE_INTERVAL: saving sooner
// after each change only costs disk writes, never freshness beyond the
// interval.
const minSaveInterval = 2 * time.Second

// SaveDelays returns WBO_SAVE_INTERVAL and WBO_MAX_SAVE_DELAY for a sync
// interval of syncSeconds: the max delay is the sync interval, and the save
// interval WBO's 2 s default or the max delay if that is shorter (WBO
// refuses to start when the max delay is below the interval).
func SaveDelays(syncSeconds int) (interval, maxDelay time.Duration) {
	maxDelay = time.Duration(syncSeconds) * time.Second
	return min(minSaveInterval, maxDelay), maxDelay
}

// SaveEnv is the wbo container's WBO_SAVE_INTERVAL and WBO_MAX_SAVE_DELAY
// (milliseconds) for a sync interval of syncSeconds.
func SaveEnv(syncSeconds int) map[string]string {
	interval, maxDelay := SaveDelays(syncSeconds)
	return map[string]string{
		"WBO_SAVE_INTERVAL":  strconv.FormatInt(interval.Milliseconds(), 10),
		"WBO_MAX_SAVE_DELAY": strconv.FormatInt(maxDelay.Milliseconds(), 10),
	}
}

// LossWindow is the documented bound on the edits lost when a task dies
// without SIGTERM, given the time one sync takes (listing, copying and the
// upload: about a second for a few changed boards): WBO's max save delay,
// plus the sync interval, plus that sync.
func LossWindow(syncSeconds int, syncDuration time.Duration) time.Duration {
	_, maxDelay := SaveDelays(syncSeconds)
	return maxDelay + time.Duration(syncSeconds)*time.Second + syncDuration
}
