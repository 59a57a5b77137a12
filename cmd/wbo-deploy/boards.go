package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
)

// newBoardsCmd is `wbo-deploy boards`: list, export, import, restore and
// delete boards in the board bucket (internal/app/boards.go).
func newBoardsCmd(g *app.Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "boards",
		Short: "List, export, import, restore and delete boards (whether the app runs or not)",
		Long: `The boards are the objects of the board bucket. Commands that change a board (import,
restore, rm) restart only the shard that owns it, and ask first: WBO holds loaded
boards in memory and would overwrite a file replaced under it.`,
		Args: usageArgs,
	}
	c.AddCommand(newBoardsLsCmd(g), newBoardsExportCmd(g), newBoardsImportCmd(g), newBoardsRestoreCmd(g), newBoardsRmCmd(g))
	return c
}

func nArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("%s takes %s (got %q)", cmd.CommandPath(), what, args)}
		}
		return nil
	}
}

func newBoardsLsCmd(g *app.Globals) *cobra.Command {
	o := app.BoardsListOptions{Shard: -1}
	c := &cobra.Command{
		Use:   "ls",
		Short: "List the boards: name, owning shard, size, last saved, versions kept",
		Args:  usageArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return app.BoardsList(cmd.Context(), g, o) },
	}
	c.Flags().IntVar(&o.Shard, "shard", -1, "only the boards of this shard")
	c.Flags().StringVar(&o.Prefix, "prefix", "", "only the boards whose name starts with this")
	return c
}

func newBoardsExportCmd(g *app.Globals) *cobra.Command {
	var o app.BoardsExportOptions
	c := &cobra.Command{
		Use:   "export NAME [--file FILE] | export --all DIR",
		Short: "Write a board's SVG (as WBO stores it) to FILE or stdout, or every board into DIR",
		Args: func(cmd *cobra.Command, args []string) error {
			if o.AllDir != "" {
				return usageArgs(cmd, args)
			}
			return nArgs(1, "one board NAME, or --all DIR")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Name = args[0]
			}
			return app.BoardsExport(cmd.Context(), g, o)
		},
	}
	c.Flags().StringVar(&o.Output, "file", "", "write the SVG here (default stdout; -o is the output format)")
	c.Flags().StringVar(&o.AllDir, "all", "", "export every board into this directory (board-<name>.svg)")
	return c
}

func newBoardsImportCmd(g *app.Globals) *cobra.Command {
	var o app.BoardsImportOptions
	c := &cobra.Command{
		Use:   "import FILE [--name NAME]",
		Short: "Store an SVG as a board (restarts the owning shard; asks first)",
		Args:  nArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return app.BoardsImport(cmd.Context(), g, o)
		},
	}
	c.Flags().StringVar(&o.Name, "name", "", "board name (default: from FILE, board-<name>.svg)")
	return c
}

func newBoardsRestoreCmd(g *app.Globals) *cobra.Command {
	var o app.BoardsRestoreOptions
	c := &cobra.Command{
		Use:   "restore NAME --at TIME",
		Short: "Make the version a board had at TIME current again (restarts the owning shard; asks first)",
		Args:  nArgs(1, "one board NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if o.At == "" {
				return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("boards restore: --at TIME is required")}
			}
			return app.BoardsRestore(cmd.Context(), g, o)
		},
	}
	c.Flags().StringVar(&o.At, "at", "", "2006-01-02T15:04:05Z, a date (its end, UTC) or a duration ago (90m)")
	return c
}

func newBoardsRmCmd(g *app.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Delete a board; its versions stay until the lifecycle expires them (restarts the owning shard; asks first)",
		Args:  nArgs(1, "one board NAME"),
		RunE:  func(cmd *cobra.Command, args []string) error { return app.BoardsRemove(cmd.Context(), g, args[0]) },
	}
}
