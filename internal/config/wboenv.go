package config

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// WBO's own configuration, as the stock image reads it from its environment
// (server/configuration.mjs and server/configuration/helpers.mjs of
// lovasoa/whitebophir, the version pinned as DefaultImage). app.env is
// checked against it before any AWS call: a value that makes WBO throw at
// start is an error (the task would stop at once, over and over), one WBO
// silently replaces by its default is a warning, and so is a WBO_* name it
// does not read (a typo, or a setting of another version).

// wboVarKind is how WBO parses a variable.
type wboVarKind int

const (
	wboString       wboVarKind = iota // parseStringEnv: any value
	wboInteger                        // parseIntegerEnv: parseInt(value, 10), the default when that is NaN
	wboEnum                           // parseEnumEnv: one of the values, case-insensitively, else it throws
	wboRateLimit                      // parseRateLimitProfileEnv: "board:N/<d>(ms|s|m)" entries, else it throws
	wboBasePath                       // parseBasePathEnv: a URL path, else it throws
	wboModerators                     // parseBoardModeratorsEnv: "board:<32 hex>[,<32 hex>]" entries, else it throws
	wboList                           // parseCommaSeparatedEnv
	wboDisabledFlag                   // parseDisabledFlagEnv: "disabled" turns the feature off
)

type wboVar struct {
	kind    wboVarKind
	def     string
	allowed []string // wboEnum
}

// wboVars are the variables WBO reads (configuration.mjs), with defaults.
var wboVars = map[string]wboVar{
	"PORT":                                {kind: wboInteger, def: "8080"},
	"HOST":                                {kind: wboString},
	"NODE_ENV":                            {kind: wboString},
	"WBO_HISTORY_DIR":                     {kind: wboString},
	"LOG_LEVEL":                           {kind: wboEnum, def: "info", allowed: []string{"debug", "info", "warn", "error"}},
	"WBO_WEBROOT":                         {kind: wboString},
	"WBO_BASE_PATH":                       {kind: wboBasePath},
	"WBO_HTML_HEAD_SNIPPET_PATH":          {kind: wboString},
	"WBO_SAVE_INTERVAL":                   {kind: wboInteger, def: "2000"},
	"WBO_MAX_SAVE_DELAY":                  {kind: wboInteger, def: "60000"},
	"WBO_SEQ_REPLAY_RETENTION_MS":         {kind: wboInteger, def: "60000"},
	"WBO_MAX_ITEM_COUNT":                  {kind: wboInteger, def: "32768"},
	"WBO_MAX_CHILDREN":                    {kind: wboInteger, def: "500"},
	"WBO_MAX_BOARD_SIZE":                  {kind: wboInteger, def: "655360"},
	"WBO_MAX_EMIT_COUNT":                  {kind: wboRateLimit, def: "*:250/5s"},
	"WBO_MAX_CONSTRUCTIVE_ACTIONS_PER_IP": {kind: wboRateLimit, def: "*:40/10s anonymous:20/10s"},
	"WBO_MAX_DESTRUCTIVE_ACTIONS_PER_IP":  {kind: wboRateLimit, def: "*:190/60s anonymous:95/60s"},
	"WBO_MAX_TEXT_CREATIONS_PER_IP":       {kind: wboRateLimit, def: "*:2/1s anonymous:30/60s"},
	"WBO_IP_SOURCE":                       {kind: wboString, def: "remoteAddress"},
	"WBO_TRUST_PROXY_HOPS":                {kind: wboInteger, def: "0"},
	"WBO_BLOCKED_TOOLS":                   {kind: wboList},
	"WBO_BLOCKED_SELECTION_BUTTONS":       {kind: wboList},
	"AUTO_FINGER_WHITEOUT":                {kind: wboDisabledFlag},
	"WBO_BOARD_MODERATORS":                {kind: wboModerators},
	"AUTH_SECRET_KEY":                     {kind: wboString},
	"TURNSTILE_SECRET_KEY":                {kind: wboString},
	"TURNSTILE_SITE_KEY":                  {kind: wboString},
	"TURNSTILE_VERIFY_URL":                {kind: wboString},
	"TURNSTILE_VALIDATION_WINDOW_MS":      {kind: wboInteger, def: "900000"},
	"WBO_DEFAULT_BOARD":                   {kind: wboString},
}

var (
	// parseRateLimitProfile: /^([^:\s]+):(\d+)\/(\d+(?:ms|s|m))$/i per entry.
	rateLimitEntryRE = regexp.MustCompile(`(?i)^([^:\s]+):(\d+)/(\d+(?:ms|s|m))$`)
	// BOARD_MODERATOR_SECRET_PATTERN.
	moderatorSecretRE = regexp.MustCompile(`(?i)^[0-9a-f]{32}$`)
	// parseInt(value, 10): optional spaces and sign, then digits.
	jsIntRE = regexp.MustCompile(`^\s*[+-]?[0-9]`)
)

// jsParseInt is JavaScript's parseInt(value, 10): the leading integer, or
// ok false where it gives NaN.
func jsParseInt(v string) (int64, bool) {
	if !jsIntRE.MatchString(v) {
		return 0, false
	}
	s := strings.TrimLeft(v, " \t\n\r\v\f")
	end := 0
	if s[0] == '+' || s[0] == '-' {
		end = 1
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	return n, err == nil
}

// wboEnv is the environment the wbo container gets from the
// configuration: wbo-deploy's defaults, app.env over them.
func (c *Config) wboEnv() map[string]string {
	env := DefaultAppEnv()
	for k, v := range c.App.Env {
		env[k] = v
	}
	env["PORT"] = strconv.Itoa(c.App.Port)
	return env
}

func (c *Config) validateWBOEnv(p *problems) {
	if !IsStockImage(c.App.Image) {
		return // another image reads its own settings
	}
	env := c.wboEnv()
	for _, k := range sortedKeys(c.App.Env) {
		v, known := wboVars[k]
		if !known {
			continue
		}
		f := keyField("app.env", k)
		val := c.App.Env[k]
		if msg := v.startError(k, val); msg != "" {
			p.add(f, val, "%s", msg)
		}
	}
	// Cross-checks WBO makes at start (configuration.mjs,
	// parseIpConfigurationEnv).
	hops, hopsOK := jsParseInt(env["WBO_TRUST_PROXY_HOPS"])
	src := strings.ToLower(strings.TrimSpace(env["WBO_IP_SOURCE"]))
	if hopsOK && hops < 0 {
		p.add("app.env.WBO_TRUST_PROXY_HOPS", env["WBO_TRUST_PROXY_HOPS"], "must be 0 or more: WBO refuses to start with a negative number of proxy hops")
	} else if hopsOK && hops > 0 && src != "x-forwarded-for" && src != "forwarded" {
		p.add("app.env.WBO_IP_SOURCE", env["WBO_IP_SOURCE"], "WBO_TRUST_PROXY_HOPS is %d, which WBO accepts only with WBO_IP_SOURCE X-Forwarded-For or Forwarded: it would refuse to start (set WBO_TRUST_PROXY_HOPS: \"0\" too, or keep X-Forwarded-For behind the load balancer)", hops)
	}
	save, okS := intOrDefault(env, "WBO_SAVE_INTERVAL")
	maxDelay, okM := intOrDefault(env, "WBO_MAX_SAVE_DELAY")
	if okS && okM && maxDelay < save {
		p.add("app.env.WBO_MAX_SAVE_DELAY", strconv.FormatInt(maxDelay, 10), "must be at least WBO_SAVE_INTERVAL (%d ms): WBO refuses to start otherwise", save)
	}
}

func intOrDefault(env map[string]string, k string) (int64, bool) {
	if v := env[k]; v != "" {
		if n, ok := jsParseInt(v); ok {
			return n, true
		}
	}
	return jsParseInt(wboVars[k].def)
}

// startError is why WBO would refuse to start with value v for k, or "".
func (v wboVar) startError(k, val string) string {
	switch v.kind {
	case wboEnum:
		if val == "" {
			return ""
		}
		for _, a := range v.allowed {
			if strings.EqualFold(a, val) {
				return ""
			}
		}
		return fmt.Sprintf("%s is not one of %s: WBO refuses to start", show(val), strings.Join(v.allowed, ", "))
	case wboRateLimit:
		if strings.TrimSpace(val) == "" {
			return ""
		}
		for _, e := range strings.Fields(val) {
			if !rateLimitEntryRE.MatchString(e) {
				hint := ""
				if _, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
					hint = fmt.Sprintf(" (a plain number is the format of WBO before 1.30; write *:%s/5s for that many messages per 5 seconds)", strings.TrimSpace(val))
				}
				return fmt.Sprintf("%s is not a rate-limit profile such as %s (entries board:count/period, period in ms, s or m, * for every board)%s: WBO refuses to start", show(val), v.def, hint)
			}
		}
	case wboBasePath:
		t := strings.TrimSpace(val)
		if t == "" {
			return ""
		}
		u, err := url.Parse(t)
		if !strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") || err != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(t, "?#") {
			return fmt.Sprintf("%s is not a URL path such as /whiteboard: WBO refuses to start", show(val))
		}
	case wboModerators:
		if strings.TrimSpace(val) == "" {
			return ""
		}
		for _, e := range strings.Fields(val) {
			parts := strings.Split(e, ":")
			if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
				return "entries must be board:<32 hexadecimal digits>, separated by spaces: WBO refuses to start"
			}
			for _, s := range strings.Split(parts[1], ",") {
				if !moderatorSecretRE.MatchString(s) {
					return fmt.Sprintf("the moderator secret for board %s is not 32 hexadecimal digits: WBO refuses to start", show(parts[0]))
				}
			}
		}
	}
	return ""
}

// wboEnvWarnings are problems that do not stop wbo-deploy or WBO but most likely
// are mistakes: app.env values WBO ignores, and WBO_* names it does not read.
func (c *Config) wboEnvWarnings() []string {
	if !IsStockImage(c.App.Image) {
		return nil
	}
	var out []string
	for _, k := range sortedKeys(c.App.Env) {
		val := c.App.Env[k]
		v, known := wboVars[k]
		switch {
		case !known && strings.HasPrefix(k, "WBO_"):
			out = append(out, fmt.Sprintf("app.env.%s: %s does not read %s; it is passed along but has no effect%s", k, c.App.Image, k, suggestWBO(k)))
		case known && v.kind == wboInteger && val != "":
			if n, ok := jsParseInt(val); !ok {
				out = append(out, fmt.Sprintf("app.env.%s: %s is not a whole number; WBO ignores it and uses %s", k, show(val), v.def))
			} else if strconv.FormatInt(n, 10) != strings.TrimSpace(strings.TrimPrefix(val, "+")) {
				out = append(out, fmt.Sprintf("app.env.%s: WBO reads %s as %d", k, show(val), n))
			}
		case known && v.kind == wboDisabledFlag && val != "" && val != "disabled":
			out = append(out, fmt.Sprintf("app.env.%s: only the value \"disabled\" changes anything; %s leaves it on", k, show(val)))
		}
	}
	return out
}

// suggestWBO names the known variable closest to an unknown WBO_* name.
func suggestWBO(k string) string {
	names := make([]string, 0, len(wboVars))
	for n := range wboVars {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", maxTypoDistance(k)+1
	for _, n := range names {
		if d := editDistance(k, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}
