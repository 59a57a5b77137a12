package shard

import (
	"math"
	"slices"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func TestPartitionCoversEveryKeyOnce(t *testing.T) {
	for n := 1; n <= config.MaxShards; n++ {
		parts := Partition(n)
		if len(parts) != n {
			t.Fatalf("Partition(%d) has %d shards", n, len(parts))
		}
		seen := map[byte]int{}
		for i, keys := range parts {
			if len(keys) == 0 {
				t.Fatalf("n=%d: shard %d owns no key", n, i)
			}
			if !slices.IsSorted(keys) {
				t.Fatalf("n=%d: shard %d keys not sorted", n, i)
			}
			for _, k := range keys {
				if !ValidKey(k) {
					t.Fatalf("n=%d: shard %d owns invalid key %02x", n, i, k)
				}
				seen[k]++
				if i < n-1 && !Routable(k) {
					t.Fatalf("n=%d: shard %d owns %02x, which only the catch-all shard can route", n, i, k)
				}
				if Owner(n, k) != i {
					t.Fatalf("n=%d: Owner(%02x) = %d, partition says %d", n, k, Owner(n, k), i)
				}
			}
		}
		for _, k := range AllKeys() {
			if seen[k] != 1 {
				t.Fatalf("n=%d: key %02x owned %d times", n, k, seen[k])
			}
		}
		// Upper-case letters belong with their lower-case key.
		for c := byte('A'); c <= 'Z'; c++ {
			if Owner(n, c) != Owner(n, c+'a'-'A') {
				t.Fatalf("n=%d: %q and %q have different owners", n, c, c+'a'-'A')
			}
		}
	}
}

func TestPartitionIsDeterministicAndUnshared(t *testing.T) {
	a := Partition(5)
	a[0][0] = 0xff // the caller's copy
	b := Partition(5)
	if b[0][0] == 0xff {
		t.Fatal("Partition returned its internal table")
	}
	if !slices.EqualFunc(Partition(5), b, func(x, y []byte) bool { return slices.Equal(x, y) }) {
		t.Fatal("Partition(5) differs between calls")
	}
	if got := Partition(1); len(got) != 1 || !slices.Equal(got[0], AllKeys()) {
		t.Fatal("one shard must own every key")
	}
}

func TestPartitionRejectsBadCounts(t *testing.T) {
	for _, n := range []int{0, -1, config.MaxShards + 1} {
		if Partition(n) != nil {
			t.Errorf("Partition(%d) != nil", n)
		}
		if Owner(n, 'a') != -1 {
			t.Errorf("Owner(%d) != -1", n)
		}
		if _, err := Rules(n); err == nil {
			t.Errorf("Rules(%d) accepted", n)
		}
		if _, err := OwnerOfName(n, "abc"); err == nil {
			t.Errorf("OwnerOfName(%d) accepted", n)
		}
	}
	if _, err := OwnerOfName(2, "%zz"); err == nil {
		t.Error("OwnerOfName accepted a bad escape")
	}
}

func TestExpectedSharesNearFair(t *testing.T) {
	for n := 1; n <= config.MaxShards; n++ {
		shares := ExpectedShares(n)
		sum, hi := 0.0, 0.0
		for _, s := range shares {
			sum += s
			hi = math.Max(hi, s)
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("n=%d: shares sum to %v", n, sum)
		}
		// The model's heaviest key ('s') is about 6.5%: beyond 8 shards it
		// alone exceeds a fair share by more than 8%.
		limit := 1.08 / float64(n)
		if n > 8 {
			limit = math.Max(limit, Weight('s')*1.1)
		}
		if hi > limit {
			t.Errorf("n=%d: modelled largest share %.3f > %.3f", n, hi, limit)
		}
	}
}

func TestWeightsModel(t *testing.T) {
	total := 0.0
	for _, k := range AllKeys() {
		if Weight(k) <= 0 {
			t.Fatalf("key %02x has no weight", k)
		}
		total += Weight(k)
	}
	if math.Abs(total-1) > 0.001 {
		t.Fatalf("weights sum to %v", total)
	}
	// WBO's random names never start with c, j, q or x: those letters get
	// only their English share, so 'c' (English 2nd) is lighter than 's'.
	if !(Weight('s') > Weight('c') && Weight('l') > Weight('q')) {
		t.Fatal("weights do not follow the model")
	}
}
