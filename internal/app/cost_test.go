package app

import (
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// plan's one-line summary prices any commercial region where the stack runs,
// says "partial" when the table lacks a figure there, and names a region the
// stack cannot run in.
func TestCostSummaryPartialAndUnknownRegions(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	if s := costSummary(&cfg); !strings.HasPrefix(s, "Estimated cost: $") || strings.Contains(s, "partial") {
		t.Errorf("us-east-1: %q, want a complete estimate", s)
	}
	cfg.Region = "sa-east-1"
	if s := costSummary(&cfg); !strings.Contains(s, "partial") || !strings.Contains(s, "sa-east-1") || strings.Contains(s, "unavailable") {
		t.Errorf("sa-east-1: %q, want a partial estimate", s)
	}
	cfg.Region = "cn-north-1"
	if s := costSummary(&cfg); !strings.Contains(s, "unavailable") || !strings.Contains(s, `"cn-north-1"`) || !strings.Contains(s, "ap-northeast-1") {
		t.Errorf("cn-north-1: %q, want unavailable naming the region and the known ones", s)
	}
}
