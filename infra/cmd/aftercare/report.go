package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ReportQuery is what `aftercare report` asks for.
type ReportQuery struct {
	DB       *dynamodb.Client
	Table    string
	Shop     string
	From, To string // YYYY-MM-DD, inclusive, in the shop's time zone
	JSON     bool   // the report JSON instead of the table
}

// reportTable prints a shop's report. It is the seam to internal/report's
// exported table printer: the lead wires it there when the branches meet,
// e.g. reportTable = func(ctx, w, q) error { ... report.PrintTable(w, r) }.
var reportTable func(ctx context.Context, w io.Writer, q ReportQuery) error

func runReport(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "report", "report --table <name> --shop <domain> --from YYYY-MM-DD --to YYYY-MM-DD [--json]")
	table := fs.String("table", os.Getenv("TABLE_NAME"), "table name ($TABLE_NAME)")
	shop := fs.String("shop", "", "shop domain")
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "last day, YYYY-MM-DD (inclusive)")
	asJSON := fs.Bool("json", false, "print the report JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "table", *table, "shop", *shop, "from", *from, "to", *to); err != nil {
		return err
	}
	f, err1 := time.Parse(time.DateOnly, *from)
	t, err2 := time.Parse(time.DateOnly, *to)
	if err := errors.Join(err1, err2); err != nil || t.Before(f) {
		fmt.Fprintln(e.stderr, "--from and --to must be dates (YYYY-MM-DD), --to not before --from")
		return errUsage
	}
	if reportTable == nil {
		return errors.New("the report is not wired into this build yet (internal/report's table printer)")
	}
	db, err := e.aws.DynamoDB(ctx)
	if err != nil {
		return err
	}
	return reportTable(ctx, e.stdout, ReportQuery{DB: db, Table: *table, Shop: *shop, From: *from, To: *to, JSON: *asJSON})
}
