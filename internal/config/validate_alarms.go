package config

import (
	"net/mail"
	"regexp"
	"strings"
)

const (
	maxEmailLen          = 254  // RFC 5321 path limit
	MaxLatencyThreshold  = 4000 // seconds: no response can take longer than the ALB's maximum idle timeout
	MaxHTTP5xxThreshold  = 1_000_000
	maxSubscriptions     = 50
	MaxCostAssumption    = 1e9 // keeps the estimate's arithmetic far from overflow
	maxCostAssumptionInt = 1_000_000_000
)

// E.164: "+", a country code not starting with 0, at most 15 digits in all.
var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (c *Config) validateAlarms(p *problems) {
	a := c.Alarms
	floatRange(p, "alarms.cpu_threshold", a.CPUThreshold, 0, 100, true)
	floatRange(p, "alarms.memory_threshold", a.MemoryThreshold, 0, 100, true)
	floatRange(p, "alarms.latency_threshold_seconds", a.LatencyThresholdSeconds, 0, MaxLatencyThreshold, true)
	intRange(p, "alarms.http_5xx_threshold", a.HTTP5xxThreshold, 0, MaxHTTP5xxThreshold)

	if len(a.Email) > maxSubscriptions {
		p.add("alarms.email", "", "lists %d addresses; at most %d are allowed", len(a.Email), maxSubscriptions)
	}
	seen := map[string]int{}
	for i, e := range a.Email {
		if i >= maxSubscriptions {
			break
		}
		f := indexField("alarms.email", i)
		if !validEmail(e) {
			p.add(f, e, "%s is not an email address such as ops@example.com", show(e))
			continue
		}
		if j, dup := seen[strings.ToLower(e)]; dup {
			p.add(f, e, "%s is already listed at alarms.email[%d]", e, j)
			continue
		}
		seen[strings.ToLower(e)] = i
	}

	if len(a.SMS) > maxSubscriptions {
		p.add("alarms.sms", "", "lists %d numbers; at most %d are allowed", len(a.SMS), maxSubscriptions)
	}
	seenSMS := map[string]int{}
	for i, n := range a.SMS {
		if i >= maxSubscriptions {
			break
		}
		f := indexField("alarms.sms", i)
		if !e164RE.MatchString(n) {
			p.add(f, n, "%s is not a phone number in E.164 form such as +14155550100 (\"+\", country code, number, no spaces)", show(n))
			continue
		}
		if j, dup := seenSMS[n]; dup {
			p.add(f, n, "%s is already listed at alarms.sms[%d]", n, j)
			continue
		}
		seenSMS[n] = i
	}
}

// validEmail accepts a bare address (no display name, no comments) with a
// dotted domain, as SNS email subscriptions need.
func validEmail(s string) bool {
	if s == "" || len(s) > maxEmailLen || hasSpaceOrControl(s) {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	at := strings.LastIndex(s, "@")
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

func (c *Config) validateCost(p *problems) {
	a := c.Cost.Assumptions
	intRange(p, "cost.assumptions.active_users", a.ActiveUsers, 0, maxCostAssumptionInt)
	floatRange(p, "cost.assumptions.gb_transferred", a.GBTransferred, 0, MaxCostAssumption, false)
	floatRange(p, "cost.assumptions.requests_per_second", a.RequestsPerSecond, 0, MaxCostAssumption, false)
	floatRange(p, "cost.assumptions.log_gb_per_month", a.LogGBPerMonth, 0, MaxCostAssumption, false)
	floatRange(p, "cost.assumptions.board_storage_gb", a.BoardStorageGB, 0, MaxCostAssumption, false)
}
