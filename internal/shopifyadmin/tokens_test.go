package shopifyadmin

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/testenv"
)

// Tokens against moto's SSM: stored as a SecureString under the documented
// name, read back decrypted, replaced on a second connect.
func TestTokensInParameterStore(t *testing.T) {
	e := testenv.Get(t)
	client := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.SQSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	tokens := &Tokens{SSM: client}
	ctx := context.Background()
	if _, err := tokens.Get(ctx, shop); aftercare.ErrorCode(err) != aftercare.ENOTFOUND {
		t.Fatalf("never connected: want ENOTFOUND, got %v", err)
	}
	if err := tokens.Put(ctx, shop, "shpat_first"); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Put(ctx, shop, "shpat_second"); err != nil {
		t.Fatal(err)
	}
	got, err := tokens.Get(ctx, shop)
	if err != nil || got != "shpat_second" {
		t.Fatalf("got %q, %v", got, err)
	}
	raw, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aftercare/shops/demo.myshopify.com/admin-token")})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Parameter.Type != "SecureString" || aws.ToString(raw.Parameter.Value) == "shpat_second" {
		t.Fatalf("stored as %s, readable without decryption: %v", raw.Parameter.Type, aws.ToString(raw.Parameter.Value) == "shpat_second")
	}
	if err := tokens.Put(ctx, "second.myshopify.com", "shpat_x"); err != nil {
		t.Fatal(err)
	}
	shops, err := tokens.Shops(ctx)
	if err != nil || len(shops) != 2 || shops[0] != shop || shops[1] != "second.myshopify.com" {
		t.Fatalf("connected shops %v %v", shops, err)
	}
	for _, bad := range []string{"", "evil.com", "a/../b.myshopify.com"} {
		if err := tokens.Put(ctx, bad, "x"); aftercare.ErrorCode(err) != aftercare.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := tokens.Put(ctx, shop, " "); aftercare.ErrorCode(err) != aftercare.EINVALID {
		t.Errorf("empty token: %v", err)
	}
}
