package config

import (
	"fmt"
	"strings"
)

// splitImage splits an image reference as the distribution reference
// grammar does (github.com/distribution/reference, reference.go): an
// optional registry host (the first component, when it has a "." or ":" or
// is "localhost"), the repository path, an optional tag after the last ":"
// of the last component, an optional digest after "@".
func splitImage(ref string) (host, path, tag, digest string) {
	rest := ref
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, digest = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, tag = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, '/'); i > 0 {
		first := rest[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			host, rest = first, rest[i+1:]
		}
	}
	return host, rest, tag, digest
}

// Warnings are what a valid configuration may still get wrong: printed
// before any work, never an error.
func (c *Config) Warnings() []string {
	var w []string
	if _, _, tag, digest := splitImage(c.App.Image); digest == "" && (tag == "" || tag == "latest") {
		shown := "no tag (Docker reads it as :latest)"
		if tag == "latest" {
			shown = ":latest"
		}
		w = append(w, fmt.Sprintf("app.image %q has %s: the image can change under a running stack and a replaced task may run another version; pin a version tag such as %s or a digest", c.App.Image, shown, DefaultImage))
	}
	return w
}
