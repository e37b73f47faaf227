package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aftercare/aftercare/internal/dynamo"
)

// runIndexOwners files the ledger entries and dedupe records written before
// the table had its owner index under it, so customers/redact finds them
// (run once after deploying the index; running it again files nothing).
func runIndexOwners(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "index-owners", "index-owners --table <name>")
	table := fs.String("table", os.Getenv("TABLE_NAME"), "table name ($TABLE_NAME)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *table == "" {
		fmt.Fprintln(e.stderr, "need --table")
		fs.Usage()
		return errUsage
	}
	db, err := e.aws.DynamoDB(ctx)
	if err != nil {
		return err
	}
	n, err := (&dynamo.Store{DB: db, Table: *table}).IndexOwners(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "filed %d items under the owner index\n", n)
	return nil
}
