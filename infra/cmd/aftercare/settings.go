package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
)

// runSettings validates a settings document and stores it as one shop's
// overrides, so a bad value is refused here, naming the field, and never
// reaches a batch. Against the local stack the table is aftercare-local-Table
// (with AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000).
func runSettings(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "settings", "settings --check <file> | --table <name> --shop <domain> (--put <file> | --get)")
	check := fs.String("check", "", "validate this settings file and exit")
	table := fs.String("table", os.Getenv("TABLE_NAME"), "table name ($TABLE_NAME)")
	shop := fs.String("shop", "", "shop domain")
	put := fs.String("put", "", "validate this settings file and store it as the shop's overrides")
	get := fs.Bool("get", false, "print the shop's stored overrides")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *check != "" {
		if _, err := loadSettings(*check); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, *check, "is valid")
		return nil
	}
	if *table == "" || *shop == "" || (*put == "" && !*get) {
		fmt.Fprintln(e.stderr, "need --check FILE, or --table, --shop and --put FILE or --get")
		fs.Usage()
		return errUsage
	}
	db, err := e.aws.DynamoDB(ctx)
	if err != nil {
		return err
	}
	store := &dynamo.Store{DB: db, Table: *table}
	if *get {
		doc, err := store.ShopSettings(ctx, *shop)
		if err != nil {
			return err
		}
		if doc == nil {
			doc = []byte("{}")
		}
		fmt.Fprintln(e.stdout, string(doc))
		return nil
	}
	doc, err := loadSettings(*put)
	if err != nil {
		return err
	}
	if err := store.PutShopSettings(ctx, *shop, doc); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "stored settings for %s (functions pick them up within 5 minutes)\n", *shop)
	return nil
}

// loadSettings reads a settings file and validates it over the defaults.
func loadSettings(path string) ([]byte, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := aftercare.ParseSettings(aftercare.DefaultSettings(), doc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, aftercare.ErrorMessage(err))
	}
	return doc, nil
}
