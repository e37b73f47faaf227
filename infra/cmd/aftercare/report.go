package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/report"
)

// ReportQuery is what `aftercare report` asks for.
type ReportQuery struct {
	DB       *dynamodb.Client
	Streams  dynamo.Streams // the table's stream: the report folds it first
	Table    string
	Shop     string
	From, To string // YYYY-MM-DD, inclusive, in the shop's time zone
	JSON     bool   // the report JSON instead of the table
}

// reportTable prints a shop's report from its day items: the same numbers
// as GET /report, as a table or as the JSON.
var reportTable = func(ctx context.Context, w io.Writer, q ReportQuery) error {
	r, err := report.ParseRange(q.From, q.To)
	if err != nil {
		return err
	}
	days, err := (&dynamo.Store{DB: q.DB, Streams: q.Streams, Table: q.Table}).ReportDays(ctx, q.Shop, r.From.Format(report.DayFormat), r.To.Format(report.DayFormat))
	if err != nil {
		return err
	}
	rep := report.Compute(q.Shop, r, days)
	if q.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return report.WriteTable(w, rep)
}

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
	db, err := e.aws.DynamoDB(ctx)
	if err != nil {
		return err
	}
	streams, err := e.aws.DynamoDBStreams(ctx)
	if err != nil {
		return err
	}
	return reportTable(ctx, e.stdout, ReportQuery{DB: db, Streams: streams, Table: *table, Shop: *shop, From: *from, To: *to, JSON: *asJSON})
}
