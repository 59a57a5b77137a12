package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
)

// signInCommands are the commands of WBO's sign-in and the stack's secrets.
func signInCommands(g *app.Globals) []*cobra.Command {
	return []*cobra.Command{newSecretCmd(g), newTokenCmd(g)}
}

func newSecretCmd(g *app.Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "secret",
		Short: "Manage the stack-owned secrets of app.secrets",
		Args:  usageArgs,
	}
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a secret's value, read from standard input or typed without echo (never an argument)",
		Long: "Store the value of NAME (app.secrets NAME: stack) in Secrets Manager. The value is read from standard\n" +
			"input, or typed at a prompt that does not echo it; it is never a command-line argument. The shards\n" +
			"get the new value at the next `wbo-deploy up`.\n\n" +
			"  openssl rand -hex 32 | wbo-deploy secret set AUTH_SECRET_KEY",
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return &app.ExitError{Code: app.ExitUsage, Err: errors.New("secret set needs the NAME of the secret (an app.secrets entry)")}
			case len(args) > 1:
				// Never echo the extra arguments: one may be the value.
				return &app.ExitError{Code: app.ExitUsage, Err: errors.New("secret set takes only NAME: the value is read from standard input or a prompt, never from the command line (it would stay in the shell history and the process list)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return app.SecretSet(cmd.Context(), g, args[0]) },
	}
	c.AddCommand(set)
	return c
}

func newTokenCmd(g *app.Globals) *cobra.Command {
	o := app.TokenOptions{Role: "editor", TTL: 24 * time.Hour}
	c := &cobra.Command{
		Use:   "token",
		Short: "Mint a sign-in token (JWT) the deployed WBO accepts and print the sign-in URL",
		Long: "Mint a JWT signed with the stack's AUTH_SECRET_KEY, with WBO's roles claim, and print the URL that\n" +
			"signs in with it. reader needs --board (WBO treats a reader of every board as an editor), and WBO\n" +
			"makes a reader read-only only on boards that are read-only.",
		Args: usageArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return app.Token(cmd.Context(), g, o) },
	}
	c.Flags().StringVar(&o.Role, "role", o.Role, "reader, editor or moderator")
	c.Flags().StringVar(&o.Board, "board", "", "limit the token to this board")
	c.Flags().DurationVar(&o.TTL, "ttl", o.TTL, "how long the token is valid")
	return c
}
