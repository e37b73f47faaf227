// Command ReportFunction answers GET /report (and /report.html): the merchant's
// report as JSON for the report token's bearer, or as the dashboard page.
package main

import (
	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/report/dashboard"
)

func main() {
	a := app.New()
	cfg := app.Load(a, func(g config.Getenv) (report.Config, error) { return report.LoadConfig(g) })
	store := a.FoldingStore(config.Common{Table: cfg.Table})
	a.Start(apigw.New(&report.Handler{Days: store, Token: cfg.Token, Page: dashboard.Page, Log: a.Log}, a.Log))
}
