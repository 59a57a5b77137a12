package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time: make build passes
// -ldflags "-X main.version=v1.2.3 -X main.commit=abc1234 -X main.date=2026-12-03T12:00:00Z".
var (
	commit = ""
	date   = ""
)

// build is what `version` reports.
type build struct{ Version, Commit, Date, Go string }

// buildInfo fills in what ldflags did not set from the module build
// information, so `go install github.com/wbo-deploy/wbo-deploy/cmd/wbo-deploy@v1.2.3`
// reports v1.2.3 (the module version) and a build from a checkout its VCS
// revision and time.
func buildInfo(ldVersion string) build {
	b := build{Version: ldVersion, Commit: commit, Date: date, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if (b.Version == "" || b.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
				if len(b.Commit) > 12 {
					b.Commit = b.Commit[:12]
				}
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.Commit != "" && commit == "" {
		b.Commit += "-dirty"
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

func versionLine(ldVersion string) string {
	b := buildInfo(ldVersion)
	s := "wbo-deploy " + b.Version
	if b.Commit != "" {
		s += fmt.Sprintf(" (commit %s", b.Commit)
		if b.Date != "" {
			s += ", built " + b.Date
		}
		s += ")"
	}
	return s + " " + b.Go
}
