package shard

import "strings"

// Unreserved reports whether JavaScript's encodeURIComponent leaves the byte
// c as it is: A-Z a-z 0-9 and - _ . ! ~ * ' ( ) (ECMA-262, "uriUnreserved"
// plus "uriMark"). Every other byte of the UTF-8 form is written as %XX.
func Unreserved(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()", c) >= 0
}

// EncodeURIComponent encodes s as JavaScript's encodeURIComponent does for a
// well-formed string: unreserved bytes stay, every other byte of the UTF-8
// encoding becomes %XX with upper-case hex. (JavaScript throws on lone
// surrogates; invalid UTF-8 in s is simply escaped byte by byte.)
func EncodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if Unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}
