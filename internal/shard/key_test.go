package shard

import (
	"errors"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// canonicalize mirrors WBO's canonicalizeBoardName (client-data/js/board_name.js):
// lower-case, runs of characters other than letters, digits, _ ~ ( ) - become
// one "-", leading/trailing dashes trimmed. (NFC is left out: every name the
// tests build is already NFC.)
func canonicalize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune("_~()", r) {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// queryEscapeOracle is encodeURIComponent built from net/url independently:
// QueryEscape leaves A-Za-z0-9-_.~ alone and writes space as "+"; the JS
// function also leaves ! * ' ( ) alone and writes space as %20.
func queryEscapeOracle(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	for _, c := range "!*'()" {
		e = strings.ReplaceAll(e, url.QueryEscape(string(c)), string(c))
	}
	return e
}

func TestEncodeURIComponentKnownValues(t *testing.T) {
	// Values as printed by encodeURIComponent in a browser / node.
	cases := map[string]string{
		"тест":              "%D1%82%D0%B5%D1%81%D1%82",
		"日本語":               "%E6%97%A5%E6%9C%AC%E8%AA%9E",
		"café":              "caf%C3%A9",
		"😀":                 "%F0%9F%98%80",
		"a b&c/d?e=f#g":     "a%20b%26c%2Fd%3Fe%3Df%23g",
		"-_.!~*'()":         "-_.!~*'()",
		"bamoti-kelu-zaro":  "bamoti-kelu-zaro",
		"100%":              "100%25",
		"[x]+{y}|\\^`\"<>;": "%5Bx%5D%2B%7By%7D%7C%5C%5E%60%22%3C%3E%3B",
	}
	for in, want := range cases {
		if got := EncodeURIComponent(in); got != want {
			t.Errorf("EncodeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

// alphabet covers every class of character a board name can hold, plus ones
// WBO replaces by "-": ASCII letters of both cases, digits, _ ~ ( ) -,
// accented Latin, Cyrillic and Greek (both cases), CJK, emoji, punctuation.
var alphabet = []rune("abcxyzABCXYZ0129_~()- .!*'%/?&#éÉèàñÑçßøтестТЕСТжЖяЯΣσλΛ日本語中文한글😀🎨+=,;:@$")

func randomName(r *rand.Rand) string {
	n := 1 + r.IntN(12)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(rs)
}

func TestEncodeURIComponentMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		s := randomName(r)
		if got, want := EncodeURIComponent(s), queryEscapeOracle(s); got != want {
			t.Fatalf("EncodeURIComponent(%q) = %q, oracle %q", s, got, want)
		}
	}
}

func TestKeyOfNameAgreesWithEncodedForms(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	names := []string{"тест", "Тест", "日本語", "café", "Café", "élan", "Élan", "Hello", "ZEBRA",
		"(x)", "~a", "_b", "9lives", "bamoti-kelu-zaro-vifena", "ñandú", "σοφία", "한글", "😀party"}
	for i := 0; i < 20000; i++ {
		names = append(names, randomName(r))
	}
	checked := 0
	for _, raw := range names {
		name := canonicalize(raw)
		if name == "" {
			continue
		}
		checked++
		want := KeyOfName(name)
		enc := EncodeURIComponent(name)
		for _, form := range []string{enc, strings.ToLower(enc), name} {
			got, err := KeyOfEncoded(form)
			if err != nil {
				t.Fatalf("KeyOfEncoded(%q) (name %q): %v", form, name, err)
			}
			if got != want {
				t.Fatalf("name %q: KeyOfEncoded(%q) = %02x, KeyOfName = %02x", name, form, got, want)
			}
		}
		if !ValidKey(want) {
			t.Fatalf("name %q has key %02x, which ValidKey rejects", name, want)
		}
		// A request with upper-case ASCII letters (before WBO lower-cases
		// the name) still has the same key.
		if c := raw[0]; c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))) {
			got, err := KeyOfEncoded(EncodeURIComponent(raw))
			if err != nil || got != want {
				t.Fatalf("raw %q: KeyOfEncoded(encoded raw) = %02x, %v; want %02x", raw, got, err, want)
			}
		}
	}
	if checked < 15000 {
		t.Fatalf("only %d non-empty canonical names checked", checked)
	}
}

func TestKeyOfNameExamples(t *testing.T) {
	cases := map[string]byte{
		"тест": 0xd1, "жук": 0xd0, "日本語": 0xe6, "café": 'c', "élan": 0xc3, "hello": 'h',
		"Hello": 'h', "(x)": '(', "~a": '~', "_b": '_', "9": '9', "😀": 0xf0, "": 0,
	}
	for name, want := range cases {
		if got := KeyOfName(name); got != want {
			t.Errorf("KeyOfName(%q) = %02x, want %02x", name, got, want)
		}
	}
}

func TestKeyOfEncoded(t *testing.T) {
	cases := map[string]byte{
		"%D1%82%D0%B5": 0xd1, "%d1%82": 0xd1, "%E6%97%A5": 0xe6, "abc": 'a', "ABC": 'a',
		"%41bc": 'a', "(x)": '(', "~": '~', "тест": 0xd1, "%7E": '~',
	}
	for in, want := range cases {
		got, err := KeyOfEncoded(in)
		if err != nil || got != want {
			t.Errorf("KeyOfEncoded(%q) = %02x, %v; want %02x", in, got, err, want)
		}
	}
	for _, bad := range []string{"%", "%4", "%zz", "%g1", "%1"} {
		_, err := KeyOfEncoded(bad)
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Input != bad {
			t.Errorf("KeyOfEncoded(%q) error = %v, want *KeyError naming the input", bad, err)
		}
	}
	if _, err := KeyOfEncoded(""); !errors.Is(err, ErrEmptyName) {
		t.Errorf("KeyOfEncoded(\"\") error = %v, want ErrEmptyName", err)
	}
}

func TestAllKeys(t *testing.T) {
	keys := AllKeys()
	if len(keys) != 256-26 {
		t.Fatalf("len(AllKeys()) = %d, want 230", len(keys))
	}
	if !slices.IsSorted(keys) {
		t.Fatal("AllKeys not sorted")
	}
	for _, k := range keys {
		if k >= 'A' && k <= 'Z' {
			t.Fatalf("AllKeys contains upper-case %q", k)
		}
	}
}

func TestFormatParseKeysRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	all := AllKeys()
	for i := 0; i < 500; i++ {
		var keys []byte
		for _, k := range all {
			if r.IntN(4) == 0 {
				keys = append(keys, k)
			}
		}
		shuffled := slices.Clone(keys)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		s := FormatKeys(append(shuffled, shuffled...)) // duplicates collapse
		got, err := ParseKeys(s)
		if err != nil {
			t.Fatalf("ParseKeys(FormatKeys(...)) = %v", err)
		}
		if len(keys) == 0 {
			if s != "" || got != nil {
				t.Fatalf("empty set formatted as %q parsed as %v", s, got)
			}
			continue
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("round trip: got %v, want %v (via %q)", got, keys, s)
		}
	}
	if got := FormatKeys([]byte{0xd0, 'a', '0', 0x28}); got != "28 30 61 d0" {
		t.Fatalf("FormatKeys = %q", got)
	}
	if got, err := ParseKeys(" \t61\n62  d0 "); err != nil || !slices.Equal(got, []byte{0x61, 0x62, 0xd0}) {
		t.Fatalf("ParseKeys with odd whitespace = %v, %v", got, err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, bad := range []string{"6G", "D0", "41", "5a", "61 61", "6", "616", "0x61", "61,62"} {
		_, err := ParseKeys(bad)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("ParseKeys(%q) error = %v, want *KeyError", bad, err)
			continue
		}
		if !strings.Contains(bad, ke.Input) {
			t.Errorf("ParseKeys(%q) error names %q", bad, ke.Input)
		}
	}
}
