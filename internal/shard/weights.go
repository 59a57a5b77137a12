package shard

// weights.go is the model of realistic board names that Partition balances:
// the expected share of boards whose name starts with each key. It is a
// design input, not a measurement; docs/sharding.md shows the balance it
// gives on a generated corpus (TestBalanceOnGeneratedCorpus).
//
// The mix, and where each part comes from:
//   - 45% names from WBO's "private board" button (GET /random): four words
//     of 2-3 syllables from a fixed list, so the first letter is the first
//     letter of a syllable drawn uniformly (whitebophir
//     server/shared/pronounceable_name.mjs, NAME_SYLLABLES, 73 syllables).
//   - 38% names typed by people, modelled as English words: first-letter
//     counts of the 93,397 words of the Red Hat Linux word list
//     (wordcraft.infopop.cc, "A brief study of letter frequency in English",
//     2007: s 11465, c 7490, p 6624, ...).
//   - 4.5% names starting with a digit (dates and numbers: "2024-planning",
//     "1a-maths"), 1 and 2 most often.
//   - 0.5% names starting with _ ~ ( or ).
//   - 12% names in other scripts, by the first byte of their UTF-8 form:
//     Cyrillic D0/D1 (а-п / р-я: Russian initial letters fall about 65/35),
//     CJK E3-E9 (kana E3, unified ideographs E4-E9), Hangul EA-ED, accented
//     Latin C3 (é à ü ç ...) and C4/C5 (ł ś ž č ...), Greek CE/CF, Hebrew D7,
//     Arabic D8/D9, emoji F0.
//
// Keys the model does not mention (bytes no valid name starts with, rare
// lead bytes) get a tiny floor weight, so the order of every key is defined.

// nameSyllables are WBO's syllables (pronounceable_name.mjs).
var nameSyllables = []string{
	"al", "an", "ar", "ba", "be", "bi", "bo", "da", "de", "di", "do", "el", "en", "er",
	"fa", "fe", "fi", "ga", "ge", "gi", "ha", "he", "hi", "io", "ka", "ke", "ki", "ko",
	"la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "oa",
	"ol", "or", "pa", "pe", "pi", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta",
	"te", "ti", "to", "ul", "ur", "va", "ve", "vi", "vo", "wa", "we", "wi", "ya", "yo",
	"za", "ze", "zi",
}

// englishInitials are first-letter counts of the Red Hat Linux word list.
var englishInitials = map[byte]float64{
	's': 11465, 'c': 7490, 'p': 6624, 'a': 6103, 'd': 5786, 'm': 5090, 'b': 5085,
	'r': 5000, 't': 4756, 'i': 4324, 'e': 4229, 'f': 3945, 'u': 3757, 'h': 3159,
	'g': 2954, 'l': 2860, 'o': 2824, 'w': 1868, 'v': 1780, 'n': 1751, 'k': 791,
	'j': 676, 'q': 594, 'z': 220, 'y': 209, 'x': 57,
}

// Shares of the mix (sum 1).
const (
	shareRandom   = 0.45
	shareEnglish  = 0.38
	shareDigits   = 0.045
	sharePunct    = 0.005
	shareNonASCII = 0.12
	// floorWeight is given to every key the model does not mention.
	floorWeight = 1e-6
)

// digitShares split shareDigits (relative).
var digitShares = map[byte]float64{
	'0': 0.05, '1': 0.25, '2': 0.25, '3': 0.07, '4': 0.07, '5': 0.07, '6': 0.06, '7': 0.06, '8': 0.06, '9': 0.06,
}

// punctShares split sharePunct (relative).
var punctShares = map[byte]float64{'_': 0.4, '~': 0.2, '(': 0.3, ')': 0.1}

// nonASCIIShares split shareNonASCII by first UTF-8 byte (percent of all
// names; they sum to 12).
var nonASCIIShares = map[byte]float64{
	0xd0: 2.6, 0xd1: 1.4, // Cyrillic
	0xe3: 0.6, 0xe4: 0.4, 0xe5: 0.5, 0xe6: 0.5, 0xe7: 0.4, 0xe8: 0.3, 0xe9: 0.3, // kana, CJK
	0xea: 0.2, 0xeb: 0.3, 0xec: 0.3, 0xed: 0.2, // Hangul
	0xc3: 1.5, 0xc4: 0.3, 0xc5: 0.2, // accented Latin
	0xce: 0.3, 0xcf: 0.2, // Greek
	0xd7: 0.3,            // Hebrew
	0xd8: 0.4, 0xd9: 0.3, // Arabic
	0xf0: 0.5, // emoji
}

// keyWeights is the model: expected share of boards per key (sums to 1
// within floating-point error, plus the floor weights).
var keyWeights = buildWeights()

func buildWeights() [256]float64 {
	var w [256]float64
	for _, k := range AllKeys() {
		w[k] = floorWeight
	}
	for _, s := range nameSyllables {
		w[s[0]] += shareRandom / float64(len(nameSyllables))
	}
	total := 0.0
	for _, c := range englishInitials {
		total += c
	}
	for k, c := range englishInitials {
		w[k] += shareEnglish * c / total
	}
	for k, s := range digitShares {
		w[k] += shareDigits * s
	}
	for k, s := range punctShares {
		w[k] += sharePunct * s
	}
	for k, s := range nonASCIIShares {
		w[k] += s / 100
	}
	return w
}

// Weight returns the modelled share of boards whose key is k.
func Weight(k byte) float64 { return keyWeights[k] }
