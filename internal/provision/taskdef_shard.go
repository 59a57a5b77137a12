package provision

import (
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// shardKeysFor returns the board keys a task family owns, for its sidecars'
// WBO_SHARD_KEYS: shard.Partition's share for shard n.Index when there are
// several shards, nil (every board) for one shard and in shared mode. The
// listener rules use the same partition, so ownership and storage agree.
func shardKeysFor(cfg *config.Config, n *Node) ([]byte, error) {
	if cfg.App.Mode == config.ModeShared || len(cfg.ServiceNames()) <= 1 {
		return nil, nil
	}
	parts := shard.Partition(cfg.App.Shards)
	if n.Index < 0 || n.Index >= len(parts) {
		return nil, fmt.Errorf("shard %d is not one of the %d shards", n.Index, cfg.App.Shards)
	}
	return parts[n.Index], nil
}
