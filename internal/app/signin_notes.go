package app

import (
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func init() { PlanNotes = append(PlanNotes, signInNote) }

// signInNote says whether WBO's sign-in is on (plan and status).
func signInNote(cfg *config.Config) string {
	if !cfg.SignIn() {
		return ""
	}
	return fmt.Sprintf("sign-in is on (app.secrets.%s): WBO asks for a token on / and on board pages; the load balancer checks %s; mint sign-in URLs with `wbo-deploy token --role editor`",
		config.AuthSecretKey, cfg.EffectiveHealthCheckPath())
}
