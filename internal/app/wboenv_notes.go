package app

import (
	"strings"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func init() { PlanNotes = append(PlanNotes, wboEnvNote) }

// wboEnvNote carries the configuration's warnings (app.env values WBO
// ignores, WBO_* names it does not read) into plan, up and status.
func wboEnvNote(cfg *config.Config) string {
	w := cfg.Warnings()
	if len(w) == 0 {
		return ""
	}
	return "warning: " + strings.Join(w, "; warning: ")
}
