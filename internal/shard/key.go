// Package shard defines which shard owns a board: the contract shared by the
// load balancer rules and the restore/backup sidecars (internal/sidecar).
//
// A board's key is the first byte of its name, with ASCII letters lower-cased.
// The byte is the same whichever form the name is in: WBO's canonical (decoded,
// NFC, lower-cased) name, its encodeURIComponent form on the wire and in older
// WBO file names ("%D1%82..." starts with byte 0xd1, as does "т..."), or the
// raw UTF-8 name newer WBO versions put in file names (board-<name>.svg).
// A shard owns a set of keys; "unset or empty" means it owns every board. The
// key sets of a sharded deployment must partition AllKeys, or some boards
// have no owner.
//
// Only canonical names reach storage: WBO answers a board URL whose name is
// not canonical (e.g. "Тест", upper-case Cyrillic, key d0) with a 301 to the
// canonical one ("тест", key d1) before reading any board data
// (server/routes/board_page.mjs, resolveBoardPageRequest), so the shard that
// gets the non-canonical request only redirects. ASCII letters are
// lower-cased here, so "Hello" and "hello" go to the same shard directly.
package shard

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrEmptyName is returned by KeyOfEncoded for an empty name: WBO has no
// board with an empty name, so it has no key.
var ErrEmptyName = errors.New("empty board name has no shard key")

// KeyError reports a malformed encoded name or shard key list entry.
type KeyError struct {
	Input  string // the offending name or key token
	Reason string
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("shard key %q: %s", e.Input, e.Reason)
}

// KeyOfEncoded returns the key of a board from its name as it appears in file
// names and URLs: percent-encoded (upper- or lower-case hex), raw, or a mix.
// A leading %XX is decoded first, so KeyOfEncoded(encodeURIComponent(n)) ==
// KeyOfName(n) for every name n, and a raw name gives the same key as its
// encoded form.
func KeyOfEncoded(encoded string) (byte, error) {
	if encoded == "" {
		return 0, ErrEmptyName
	}
	b := encoded[0]
	if b == '%' {
		if len(encoded) < 3 {
			return 0, &KeyError{Input: encoded, Reason: "truncated percent-escape"}
		}
		hi, ok1 := unhex(encoded[1])
		lo, ok2 := unhex(encoded[2])
		if !ok1 || !ok2 {
			return 0, &KeyError{Input: encoded, Reason: "invalid percent-escape " + encoded[:3]}
		}
		b = hi<<4 | lo
	}
	return lowerASCII(b), nil
}

// KeyOfName returns the key of a decoded board name (WBO's canonical form).
// Only ASCII letters are lower-cased: the key of a non-ASCII name is the first
// byte of its UTF-8 encoding, exactly the %XX that starts its encoded form.
// The empty name, which WBO never serves, gets key 0.
func KeyOfName(name string) byte {
	if name == "" {
		return 0
	}
	return lowerASCII(name[0])
}

// ValidKey reports whether b can be a key: every byte except the upper-case
// ASCII letters, which are always lower-cased first.
func ValidKey(b byte) bool { return b < 'A' || b > 'Z' }

// AllKeys returns every valid key in ascending order. The key sets of a
// sharded deployment must partition this set, or some boards have no owner.
func AllKeys() []byte {
	keys := make([]byte, 0, 256-26)
	for i := 0; i < 256; i++ {
		if ValidKey(byte(i)) {
			keys = append(keys, byte(i))
		}
	}
	return keys
}

// FormatKeys renders keys as WBO_SHARD_KEYS expects them: two lower-case hex
// digits each, ascending, without duplicates, separated by single spaces.
// nil or empty gives "" (own every board).
func FormatKeys(keys []byte) string {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	parts := make([]string, len(sorted))
	for i, k := range sorted {
		parts[i] = fmt.Sprintf("%02x", k)
	}
	return strings.Join(parts, " ")
}

// ParseKeys parses a WBO_SHARD_KEYS value: whitespace-separated tokens of two
// lower-case hex digits. It returns the keys in ascending order; "" or only
// whitespace gives nil (own every board). Upper-case hex, duplicates and keys
// of upper-case letters (41-5a, never produced because names are lower-cased)
// are errors, the same ones the sidecar scripts reject.
func ParseKeys(s string) ([]byte, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, nil
	}
	seen := make(map[byte]bool, len(fields))
	keys := make([]byte, 0, len(fields))
	for _, f := range fields {
		if len(f) != 2 || !isLowerHex(f[0]) || !isLowerHex(f[1]) {
			return nil, &KeyError{Input: f, Reason: "want two lower-case hex digits"}
		}
		hi, _ := unhex(f[0])
		lo, _ := unhex(f[1])
		k := hi<<4 | lo
		if !ValidKey(k) {
			return nil, &KeyError{Input: f, Reason: fmt.Sprintf("upper-case letter %q; board keys are lower-cased (use %02x)", k, k+'a'-'A')}
		}
		if seen[k] {
			return nil, &KeyError{Input: f, Reason: "listed twice"}
		}
		seen[k] = true
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
