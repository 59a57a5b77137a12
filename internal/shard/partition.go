package shard

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// partition.go decides which shard owns which keys.
//
// Listener rules can name a key cheaply only when it has exactly one form on
// the wire, so keys are of two sorts:
//   - routable keys: ASCII letters and digits (written as themselves by the
//     browser and by engine.io) and the UTF-8 lead bytes C2-F4 (always
//     percent-encoded, %XX). Each one costs one query-string value in the
//     socket.io rules of the shard that owns it.
//   - every other key (_ ~ ( ) - and the bytes no valid name starts with):
//     these go to the last shard, whose rules are catch-alls for board
//     requests, so they cost nothing and route correctly whatever their
//     encoding ("(" may arrive as "(" or "%28").
//
// The last shard also takes the lightest routable keys, up to half a fair
// share (catch-all again: no rule values). The remaining keys are dealt out
// heaviest first, each to the least loaded shard (LPT scheduling), using the
// weights of weights.go, so every shard expects about 1/n of the boards.

// Partition returns the keys each of n shards owns: Partition(n)[i] is
// shard i's keys, ascending. Together they cover AllKeys exactly once. The
// result depends on n only, so the sidecars (WBO_SHARD_KEYS) and the listener
// rules always agree. n outside 1..config.MaxShards gives nil.
func Partition(n int) [][]byte {
	if n < 1 || n > config.MaxShards {
		return nil
	}
	partitionsOnce.Do(func() {
		for i := range partitions {
			partitions[i] = computePartition(i + 1)
		}
	})
	out := make([][]byte, n)
	for i, keys := range partitions[n-1] {
		out[i] = slices.Clone(keys)
	}
	return out
}

var (
	partitionsOnce sync.Once
	partitions     [config.MaxShards][][]byte
)

func computePartition(n int) [][]byte {
	if n == 1 {
		return [][]byte{AllKeys()}
	}
	parts := make([][]byte, n)
	loads := make([]float64, n)
	last := n - 1
	give := func(i int, k byte) {
		parts[i] = append(parts[i], k)
		loads[i] += keyWeights[k]
	}
	var head []byte
	for _, k := range AllKeys() {
		if Routable(k) {
			head = append(head, k)
		} else {
			give(last, k)
		}
	}
	// Heaviest first; ties by byte value so the order is total.
	slices.SortStableFunc(head, func(a, b byte) int {
		switch {
		case keyWeights[a] > keyWeights[b]:
			return -1
		case keyWeights[a] < keyWeights[b]:
			return 1
		}
		return int(a) - int(b)
	})
	target := 1 / float64(n)
	for len(head) > 0 {
		k := head[len(head)-1]
		if loads[last]+keyWeights[k] > target/2 {
			break
		}
		give(last, k)
		head = head[:len(head)-1]
	}
	for _, k := range head {
		best := last // on a tie the catch-all shard wins: no rule value
		for i := range loads {
			if loads[i] < loads[best]-1e-12 {
				best = i
			}
		}
		give(best, k)
	}
	for i := range parts {
		slices.Sort(parts[i])
	}
	return parts
}

// Routable reports whether listener rules name key k explicitly when a shard
// other than the last owns it: ASCII lower-case letters, digits and UTF-8
// lead bytes C2-F4.
func Routable(k byte) bool {
	return k >= 'a' && k <= 'z' || k >= '0' && k <= '9' || k >= 0xc2 && k <= 0xf4
}

// Owner returns the shard that owns key k among n shards (-1 for an invalid
// n). Upper-case ASCII letters are lower-cased first, as in KeyOfName.
func Owner(n int, k byte) int {
	if n < 1 || n > config.MaxShards {
		return -1
	}
	Partition(n) // computes the table
	k = lowerASCII(k)
	for i, keys := range partitions[n-1] {
		if _, ok := slices.BinarySearch(keys, k); ok {
			return i
		}
	}
	return -1
}

// OwnerOfName returns the shard owning a board, from its name in any of the
// forms KeyOfEncoded accepts.
func OwnerOfName(n int, name string) (int, error) {
	k, err := KeyOfEncoded(name)
	if err != nil {
		return -1, err
	}
	i := Owner(n, k)
	if i < 0 {
		return -1, fmt.Errorf("shard count %d: want 1..%d", n, config.MaxShards)
	}
	return i, nil
}

// ExpectedShares returns the modelled share of boards of each shard (the sum
// of its keys' weights, normalised).
func ExpectedShares(n int) []float64 {
	parts := Partition(n)
	out := make([]float64, len(parts))
	total := 0.0
	for i, keys := range parts {
		for _, k := range keys {
			out[i] += keyWeights[k]
		}
		total += out[i]
	}
	for i := range out {
		out[i] /= total
	}
	return out
}

// Describe renders a key set for people (status, plan, docs): runs of
// letters and digits as ranges ("a-c"), lead bytes as their percent-encoded
// form ("%D0"), and "other" for the keys no valid board name starts with.
// The set of every key is "all".
func Describe(keys []byte) string {
	if len(keys) == len(AllKeys()) {
		return "all"
	}
	set := map[byte]bool{}
	for _, k := range keys {
		set[k] = true
	}
	var parts []string
	run := func(lo, hi byte, show func(byte) string) {
		for c := int(lo); c <= int(hi); {
			if !set[byte(c)] {
				c++
				continue
			}
			start := c
			for c+1 <= int(hi) && set[byte(c+1)] {
				c++
			}
			switch {
			case c == start:
				parts = append(parts, show(byte(start)))
			case c == start+1:
				parts = append(parts, show(byte(start)), show(byte(c)))
			default:
				parts = append(parts, show(byte(start))+"-"+show(byte(c)))
			}
			c++
		}
	}
	ascii := func(b byte) string { return string(rune(b)) }
	run('0', '9', ascii)
	run('a', 'z', ascii)
	for _, c := range []byte("_~()") {
		if set[c] {
			parts = append(parts, string(rune(c)))
		}
	}
	run(0xc2, 0xf4, func(b byte) string { return fmt.Sprintf("%%%02X", b) })
	other := false
	for _, k := range keys {
		if !Routable(k) && !strings.ContainsRune("_~()", rune(k)) {
			other = true
			break
		}
	}
	if other {
		parts = append(parts, "other")
	}
	return strings.Join(parts, " ")
}
