package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// newRootCmd builds the command tree around g; streams is called once flags
// are parsed (tests pass their own).
func newRootCmd(g *app.Globals, streams func() *ui.Streams) *cobra.Command {
	var stack, region string
	root := &cobra.Command{
		Use:   "wbo-deploy",
		Short: "Deploy WBO, the collaborative whiteboard, on AWS (VPC, ALB, ECS Fargate, S3, ElastiCache, CloudWatch)",
		Long: `wbo-deploy stands up, operates and tears down a production WBO deployment on AWS
by calling the AWS APIs directly. Run 'wbo-deploy plan' to see what it would create
(no AWS account needed), 'wbo-deploy cost' for the monthly bill, then 'wbo-deploy up'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.IO == nil {
				g.IO = streams()
			}
			if g.BeforeRun != nil {
				g.BeforeRun()
				g.BeforeRun = nil
			}
			g.Overrides = map[string]any{}
			if cmd.Flags().Changed("stack") {
				g.Overrides["stack"] = stack
			}
			if cmd.Flags().Changed("region") {
				g.Overrides["region"] = region
			}
			return g.CheckOutput()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.ConfigFile, "config", "", "config file (default ./wbo-deploy.yaml when present)")
	pf.StringVar(&stack, "stack", "wbo", "stack name")
	pf.StringVar(&region, "region", "", "AWS region (default: config, WBO_DEPLOY_REGION, AWS_REGION, profile)")
	pf.StringVar(&g.Profile, "profile", "", "AWS shared config profile")
	pf.StringVar(&g.EndpointURL, "endpoint-url", "", "AWS API endpoint, for emulators (also AWS_ENDPOINT_URL)")
	pf.StringVar(&g.StateFile, "state", "", "state file (default .wbo-deploy/<stack>.json)")
	pf.StringVarP(&g.Output, "output", "o", "text", "output format: text or json")
	pf.BoolVarP(&g.Yes, "yes", "y", false, "do not ask for confirmation (also --auto-approve)")
	pf.BoolVar(&g.Yes, "auto-approve", false, "same as --yes")
	pf.BoolVar(&g.NoColorFlag, "no-color", false, "no colour (also NO_COLOR)")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "show every resource checked")

	root.Version = versionLine(g.Version)
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newUpCmd(g), newPlanCmd(g), newStatusCmd(g), newDestroyCmd(g), newCostCmd(g), newLogsCmd(g), newIAMPolicyCmd(g), newBoardsCmd(g), newVersionCmd(g), newValidateCmd(g), newInitCmd(g))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &app.ExitError{Code: app.ExitUsage, Err: err}
	})
	return root
}

// strictCompletion (called once the command's streams are set: cobra binds
// the completion scripts' writer when it makes the command) makes `completion SHELL` refuse a shell cobra cannot
// write a script for (tcsh, say) with a usage error, instead of printing
// help and exiting 0.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			var shells []string
			for _, s := range cmd.Commands() {
				shells = append(shells, s.Name())
			}
			return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("completion: %q is not a supported shell (%s)", args[0], strings.Join(shells, ", "))}
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		}
	}
}

func newInitCmd(g *app.Globals) *cobra.Command {
	var o app.InitOptions
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a commented wbo-deploy.yaml (asks on a terminal; flags for scripts); never overwrites one",
		Args:  usageArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Set = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { o.Set[f.Name] = true })
			if cmd.Flags().Changed("region") {
				o.Set["region"] = true
				o.Region, _ = cmd.Flags().GetString("region")
			}
			return app.Init(cmd.Context(), g, o)
		},
	}
	c.Flags().StringVar(&o.File, "file", "", "file to write (default ./wbo-deploy.yaml)")
	c.Flags().IntVar(&o.Shards, "shards", 0, "number of shards (1-16; default 2)")
	c.Flags().StringVar(&o.Redis, "redis", "", "none (default: the stock WBO image does not use Redis) or elasticache")
	c.Flags().StringSliceVar(&o.AlarmEmails, "alarm-email", nil, "email address notified of alarms (repeatable)")
	return c
}

func newValidateCmd(g *app.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration (file, environment, flags) and exit 0, or 2 naming every problem; no AWS call",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.Validate(cmd.Context(), g) },
	}
}

func usageArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("%s takes no arguments (got %q)", cmd.Name(), args)}
	}
	return nil
}

func newUpCmd(g *app.Globals) *cobra.Command {
	var o app.UpOptions
	c := &cobra.Command{
		Use:        "up",
		SuggestFor: []string{"apply", "deploy", "create"},
		Short:      "Create or update the stack (prints the plan first)",
		Args:       usageArgs,
		RunE:       func(cmd *cobra.Command, _ []string) error { return app.Up(cmd.Context(), g, o) },
	}
	c.Flags().BoolVar(&o.AllowReplace, "allow-replace", false, "allow replacing resources that cannot change in place")
	c.Flags().BoolVar(&o.NoWait, "no-wait", false, "return after update calls without waiting for deployments")
	return c
}

func newPlanCmd(g *app.Globals) *cobra.Command {
	var o app.PlanOptions
	c := &cobra.Command{
		Use:   "plan",
		Short: "Show what up would do (offline when nothing is deployed yet)",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.Plan(cmd.Context(), g, o) },
	}
	c.Flags().BoolVar(&o.DetailedExitCode, "detailed-exitcode", false, "exit 0 without changes, 2 with changes")
	return c
}

func newStatusCmd(g *app.Globals) *cobra.Command {
	var o app.StatusOptions
	c := &cobra.Command{
		Use:   "status",
		Short: "Describe every resource and the app's health (exit 0 healthy, 3 degraded, 4 not deployed)",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.Status(cmd.Context(), g, o) },
	}
	c.Flags().DurationVar(&o.WaitHealthy, "wait-healthy", 0, "poll until healthy or this timeout (e.g. 10m)")
	return c
}

func newDestroyCmd(g *app.Globals) *cobra.Command {
	var o app.DestroyOptions
	c := &cobra.Command{
		Use:        "destroy",
		SuggestFor: []string{"delete", "down", "teardown"},
		Short:      "Delete the stack (keeps the board bucket unless --delete-data)",
		Args:       usageArgs,
		RunE:       func(cmd *cobra.Command, _ []string) error { return app.Destroy(cmd.Context(), g, o) },
	}
	c.Flags().BoolVar(&o.DeleteData, "delete-data", false, "also empty and delete the board bucket (every board version)")
	c.Flags().BoolVar(&o.KeepLogs, "keep-logs", false, "keep the log group and the access-log bucket")
	c.Flags().BoolVar(&o.Force, "force", false, "turn off load balancer deletion protection if it is on")
	c.Flags().BoolVar(&o.DryRun, "dry-run", false, "list what would be deleted and kept, change nothing")
	return c
}

func newCostCmd(g *app.Globals) *cobra.Command {
	var o app.CostOptions
	c := &cobra.Command{
		Use:   "cost",
		Short: "Estimate the monthly cost of the configured stack, line by line, offline",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.Cost(cmd.Context(), g, o) },
	}
	c.Flags().BoolVar(&o.Compare, "compare", false, "compare with the alternatives (modes, Redis, arm64, HTTPS...)")
	c.Flags().BoolVar(&o.LivePrices, "live-prices", false, "fetch current prices from the AWS Price List API and show differences")
	return c
}

func newIAMPolicyCmd(g *app.Globals) *cobra.Command {
	var o app.IAMPolicyOptions
	c := &cobra.Command{
		Use:   "iam-policy",
		Short: "Print the least-privilege IAM policy an operator needs to run wbo-deploy with this configuration",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.IAMPolicy(cmd.Context(), g, o) },
	}
	c.Flags().StringVar(&o.Account, "account", "", "scope resource ARNs to this AWS account ID")
	c.Flags().StringVar(&o.Partition, "partition", "aws", "AWS partition (aws, aws-cn, aws-us-gov)")
	c.Flags().BoolVar(&o.LivePrices, "live-prices", false, "include pricing:GetProducts, for 'cost --live-prices'")
	return c
}

func newLogsCmd(g *app.Globals) *cobra.Command {
	o := app.LogsOptions{Shard: -1}
	c := &cobra.Command{
		Use:   "logs",
		Short: "Show the app's logs (--follow to tail; one JSON object per line with -o json)",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.Logs(cmd.Context(), g, o) },
	}
	c.Flags().StringVar(&o.Since, "since", "10m", "how far back to start (e.g. 10m, 2h, 1d)")
	c.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	c.Flags().StringVar(&o.Filter, "filter", "", "CloudWatch Logs filter pattern (e.g. ERROR or \"board saved\")")
	c.Flags().StringVar(&o.Task, "task", "", "only this task (ID or ARN)")
	c.Flags().StringVar(&o.ShardArg, "shard", "", "only this shard's tasks (0, 1, ...)")
	return c
}

func newVersionCmd(g *app.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  usageArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := buildInfo(g.Version)
			if g.JSON() {
				return ui.JSON(g.IO.Out, map[string]string{"schema": "wbo-deploy.version/v1", "version": b.Version,
					"commit": b.Commit, "date": b.Date, "go": b.Go})
			}
			fmt.Fprintln(g.IO.Out, versionLine(g.Version))
			return nil
		},
	}
}
