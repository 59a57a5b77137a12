package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// suggest returns ` (did you mean "x"?)` for an unknown key found under
// prefix, or "". It looks first at the keys allowed in the same place
// (typos: "shard" → "shards", "Stack" → "stack"), then anywhere in the schema
// for a key with the same last part in another section ("shards" at the top
// level → "app.shards").
func suggest(prefix, key string) string {
	if utf8.RuneCountInString(key) > 64 {
		return ""
	}
	lk := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	best, bestDist := "", 1<<30
	for _, c := range schema.children[prefix] {
		d := editDistance(lk, c)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" && bestDist <= maxTypoDistance(key) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	// The same name somewhere else in the schema: a key put in the wrong section.
	for _, f := range schema.fields {
		last := f.key[strings.LastIndex(f.key, ".")+1:]
		if last == lk && f.key != joinKey(prefix, key) {
			return fmt.Sprintf(" (did you mean %q?)", f.key)
		}
	}
	for s := range schema.sections {
		last := s[strings.LastIndex(s, ".")+1:]
		if last == lk && s != joinKey(prefix, key) {
			return fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	return ""
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// maxTypoDistance: one edit for short keys, up to a third of the length for longer ones.
func maxTypoDistance(key string) int {
	n := utf8.RuneCountInString(key) / 3
	if n < 1 {
		n = 1
	}
	if n > 3 {
		n = 3
	}
	return n
}

// editDistance is the optimal-string-alignment distance between a and b, by
// runes: insertions, deletions, substitutions and swaps of neighbours ("imgae").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
