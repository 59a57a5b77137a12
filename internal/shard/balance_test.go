package shard

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// TestBalanceOnGeneratedCorpus measures the share of boards each shard
// owns over 200,000 generated realistic names (corpus_test.go) and checks
// it stays near 1/n. The table it logs (go test -run Balance -v) is the one
// in docs/sharding.md.
func TestBalanceOnGeneratedCorpus(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	const size = 200_000
	counts := map[byte]int{}
	for i := 0; i < size; i++ {
		counts[KeyOfName(corpusName(r))]++
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| shards | fair share | largest | smallest | largest / fair |\n|---|---|---|---|---|\n")
	for n := 2; n <= config.MaxShards; n++ {
		per := make([]int, n)
		for k, c := range counts {
			per[Owner(n, k)] += c
		}
		hi, lo := 0, size
		for _, c := range per {
			hi, lo = max(hi, c), min(lo, c)
		}
		fair := 1 / float64(n)
		ratio := float64(hi) / size / fair
		fmt.Fprintf(&table, "| %d | %.1f%% | %.1f%% | %.1f%% | %.2f |\n", n, 100*fair, 100*float64(hi)/size, 100*float64(lo)/size, ratio)
		// The heaviest single key ('s', about 6.5% of names) bounds what any
		// first-byte partition can do for many shards.
		limit := 1.15
		if n > 8 {
			limit = 1.35
		}
		if ratio > limit {
			t.Errorf("n=%d: the busiest shard owns %.1f%% of the boards, %.2f times its fair share (limit %.2f)", n, 100*float64(hi)/size, ratio, limit)
		}
	}
	t.Logf("balance over %d generated names:\n%s", size, table.String())
}
