package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// InitOptions are init's flags; on a terminal the values not given are asked.
type InitOptions struct {
	File        string   // default ./wbo-deploy.yaml
	Region      string   // from --region
	Shards      int      // 0 = ask, or the default
	Redis       string   // "", "none" or "elasticache"
	AlarmEmails []string // --alarm-email, repeatable
	// Set reports which flags were given (those are never asked).
	Set map[string]bool
}

// Init writes a commented configuration file with the few choices a new
// stack needs, asking for them on a terminal; it never overwrites a file.
func Init(_ context.Context, g *Globals, o InitOptions) error {
	path := o.File
	if path == "" {
		path = config.DefaultConfigFile
	}
	if _, err := os.Stat(path); err == nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s already exists: init never overwrites a configuration (edit it, or remove it first)", path)}
	}
	def := config.Default()
	stack := def.Stack
	if v, ok := g.Overrides["stack"].(string); ok && v != "" {
		stack = v
	}
	region := o.Region
	if region == "" {
		region = g.getenv("AWS_REGION")
	}
	if o.Shards == 0 {
		o.Shards = def.App.Shards
	}
	if o.Redis == "" {
		o.Redis = "none" // the stock image does not use it (docs/redis.md)
	}
	if g.IO.InTTY && !g.Yes {
		in := bufio.NewReader(g.IO.In)
		ask := func(flag, question, current string) string {
			if o.Set[flag] {
				return current
			}
			fmt.Fprintf(g.IO.Err, "%s [%s]: ", question, current)
			line, _ := in.ReadString('\n')
			if a := strings.TrimSpace(line); a != "" {
				return a
			}
			return current
		}
		region = ask("region", "AWS region (e.g. eu-west-1)", region)
		if s, err := strconv.Atoi(ask("shards", "Shards: WBO tasks, each serving its own boards (1-16)", strconv.Itoa(o.Shards))); err == nil {
			o.Shards = s
		} else {
			return &ExitError{Code: ExitUsage, Err: errors.New("app.shards: not a whole number")}
		}
		o.Redis = ask("redis", "Redis: none, or elasticache (about $25/month; the stock WBO image does not use it)", o.Redis)
		if e := ask("alarm-email", "Alarm email (empty for none)", strings.Join(o.AlarmEmails, ",")); e != "" {
			o.AlarmEmails = strings.Split(e, ",")
		}
	}
	body := initFile(stack, region, o)
	// The file must load and validate before it is written: the same checks
	// as every command, naming the field.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".wbo-deploy-init-*.yaml")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(body); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp.Close()
	cfg, err := config.Load(config.LoadOptions{ConfigFile: tmp.Name(), Env: []string{}})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s already exists: init never overwrites a configuration", path)}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if g.JSON() {
		return ui.JSON(g.IO.Out, map[string]any{"schema": "wbo-deploy.init/v1", "file": path, "stack": stack, "region": region})
	}
	fmt.Fprintf(g.IO.Out, "Wrote %s. Next: wbo-deploy cost, then wbo-deploy plan and wbo-deploy up.\n", path)
	return nil
}

func initFile(stack, region string, o InitOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# wbo-deploy configuration, written by `wbo-deploy init` on %s.\n", time.Now().UTC().Format("2006-01-02"))
	b.WriteString("# Only the choices a new stack needs are here; every other key keeps its default\n")
	b.WriteString("# (all keys, with comments: config.example.yaml in the wbo-deploy repository).\n")
	b.WriteString("# Unknown keys are errors; `wbo-deploy validate` checks this file after an edit.\n\n")
	fmt.Fprintf(&b, "stack: %s  # prefixes every AWS resource name\n", stack)
	if region != "" {
		fmt.Fprintf(&b, "region: %s  # AWS region\n", region)
	} else {
		b.WriteString("# region: eu-west-1  # else --region, AWS_REGION or the AWS profile\n")
	}
	b.WriteString("\napp:\n")
	fmt.Fprintf(&b, "  shards: %d  # WBO tasks, one per shard; each board is served by exactly one (1-16)\n", o.Shards)
	b.WriteString("\nredis:\n")
	fmt.Fprintf(&b, "  mode: %s  # elasticache | none: the stock WBO image does not use Redis (docs/redis.md)\n", o.Redis)
	b.WriteString("\nalarms:\n")
	if len(o.AlarmEmails) == 0 {
		b.WriteString("  email: []  # addresses notified of alarms (each confirms the SNS subscription)\n")
	} else {
		b.WriteString("  email:  # each address confirms the SNS subscription by email\n")
		for _, e := range o.AlarmEmails {
			fmt.Fprintf(&b, "    - %q\n", strings.TrimSpace(e))
		}
	}
	return b.String()
}
