package app

import (
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
)

func init() {
	PlanNotes = append(PlanNotes, provision.RedisNote, modeNote)
}

// modeNote tells what the app topology means for availability.
func modeNote(cfg *config.Config) string {
	switch cfg.App.Mode {
	case config.ModeSingle:
		return "app.mode single: one task; each deployment stops the old task before starting the new one (about a minute of downtime), so two tasks never own the same boards"
	case config.ModeSharded:
		return "app.mode sharded: one task per shard, each board served by exactly one shard; a deployment restarts each shard's task (about a minute of downtime for the boards of that shard); see docs/sharding.md"
	}
	return ""
}
