// Command settings validates a settings document and stores it as one shop's
// overrides, so a bad value is refused here, naming the field, and never
// reaches a batch:
//
//	go run ./infra/cmd/settings -check infra/settings.example.json
//	go run ./infra/cmd/settings -table <TableName> -shop example.myshopify.com -put my-shop.json
//	go run ./infra/cmd/settings -table <TableName> -shop example.myshopify.com -get
//
// Against the local stack, set AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000
// (and any AWS_ACCESS_KEY_ID/SECRET); the table is aftercare-local-Table.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/dynamo"
)

func main() {
	check := flag.String("check", "", "validate this settings file and exit")
	table := flag.String("table", os.Getenv("TABLE_NAME"), "table name")
	shop := flag.String("shop", "", "shop domain")
	put := flag.String("put", "", "validate this settings file and store it as the shop's overrides")
	get := flag.Bool("get", false, "print the shop's stored overrides")
	flag.Parse()
	if err := run(*check, *table, *shop, *put, *get); err != nil {
		fmt.Fprintln(os.Stderr, "settings:", err)
		os.Exit(1)
	}
}

func run(check, table, shop, put string, get bool) error {
	if check != "" {
		_, err := load(check)
		if err == nil {
			fmt.Println(check, "is valid")
		}
		return err
	}
	if table == "" || shop == "" || (put == "" && !get) {
		return fmt.Errorf("need -check FILE, or -table, -shop and -put FILE or -get")
	}
	ctx := context.Background()
	cfg, err := config.AWS(ctx)
	if err != nil {
		return err
	}
	store := &dynamo.Store{DB: dynamodb.NewFromConfig(cfg), Table: table}
	if get {
		doc, err := store.ShopSettings(ctx, shop)
		if err != nil {
			return err
		}
		if doc == nil {
			fmt.Println("{}")
			return nil
		}
		fmt.Println(string(doc))
		return nil
	}
	doc, err := load(put)
	if err != nil {
		return err
	}
	if err := store.PutShopSettings(ctx, shop, doc); err != nil {
		return err
	}
	fmt.Printf("stored settings for %s (functions pick them up within 5 minutes)\n", shop)
	return nil
}

// load reads a settings file and validates it over the defaults.
func load(path string) ([]byte, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := aftercare.ParseSettings(aftercare.DefaultSettings(), doc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, aftercare.ErrorMessage(err))
	}
	return doc, nil
}
