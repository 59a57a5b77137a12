# wbo-deploy. `make test` is the whole test suite (what CI runs); it installs
# the tools it needs first.
SHELL       := /bin/bash
GO          ?= go
VERSION     ?= $(shell git describe --tags --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
DATE        ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS     := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
GOBIN       := $(shell $(GO) env GOPATH)/bin

.PHONY: build run test lint vet unit fuzz bench reliability tools clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/wbo-deploy ./cmd/wbo-deploy

# The quick start: build, then show what would be deployed (no AWS account needed).
run: build
	./bin/wbo-deploy plan

# tools installs what the tests need: staticcheck (Go module proxy), the AWS
# CLI, which the sidecar script tests drive against a loopback S3 server, and
# bubblewrap (bwrap), in which internal/awssim/fargate runs the generated
# task definitions' containers as Fargate does (with Debian's awscli at
# /usr/bin/aws inside), and curl, which the scripts' test clock calls
# (internal/awssim/fargate/clock.go). As root with apt-get (CI) the Debian packages are
# installed; elsewhere an aws CLI on PATH is enough (the Fargate-like tests
# then skip, saying why).
tools:
	@test -x $(GOBIN)/staticcheck || $(GO) install $(STATICCHECK)
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  missing=; test -x /usr/bin/aws || missing="$$missing awscli"; command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	  [ -z "$$missing" ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null); \
	elif ! command -v aws >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then \
	  echo "install the AWS CLI and curl (Debian: apt-get install awscli bubblewrap curl)" >&2; exit 1; fi

vet:
	$(GO) vet ./...

lint: tools vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOBIN)/staticcheck ./...

# The unit and integration tests; the whole-stack fault injection of
# internal/reliability is skipped here and run by `make reliability`.
unit:
	$(GO) test -count=1 ./...

# A short fuzz run of the config loader (seed corpus in internal/config/testdata/fuzz).
# -fuzzminimizetime=1x: minimizing each new interesting input (60 s by
# default) stalled the run for seconds at a time and, when -fuzztime ran out
# mid-minimization, failed it with "context deadline exceeded" on a clean
# checkout; one try per minimization keeps the exploration and ends on time.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=15s -fuzzminimizetime=1x ./internal/config/

test: tools lint unit reliability fuzz

# The performance report (docs/performance.md): whole-stack runs on a virtual
# clock (testing/synctest) against the critical path, exact and the same on
# every machine; then the Go benchmarks of the other packages.
bench:
	@set -o pipefail; WBO_PERF=1 $(GO) test -count=1 -run '^TestPerformanceReport$$' -v ./internal/reliability/ | grep -v -E '^(=== RUN|--- PASS|PASS$$|ok )'
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Whole-stack fault injection; prints the figures the README publishes. The
# crash cases are parallel subtests (-parallel defaults to the CPU count).
reliability:
	@set -o pipefail; WBO_RELIABILITY=1 $(GO) test -count=1 -timeout 60m -v ./internal/reliability/ | grep -E '^(--- |ok|FAIL|PASS|reliability:)'

clean:
	rm -rf bin
