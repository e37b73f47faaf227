package shopifyadmin

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// TokenPrefix is where shops' Admin API access tokens live in SSM Parameter
// Store: /aftercare/shops/<shop domain>/admin-token, a SecureString.
const TokenPrefix = "/aftercare/shops/"

// TokenName is the parameter name of a shop's access token.
func TokenName(shop string) string { return TokenPrefix + shop + "/admin-token" }

// SSMAPI is the part of the SSM client the token store uses.
type SSMAPI interface {
	GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	DeleteParameter(context.Context, *ssm.DeleteParameterInput, ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// Tokens keeps shops' access tokens in SSM Parameter Store.
type Tokens struct {
	SSM   SSMAPI
	KeyID string // KMS key for the SecureString; empty: the account's aws/ssm key
}

// Put stores (or replaces) a shop's token as a SecureString.
func (t *Tokens) Put(ctx context.Context, shop, token string) error {
	if err := checkShop(shop); err != nil {
		return err
	}
	if strings.TrimSpace(token) == "" {
		return aftercare.Errorf(aftercare.EINVALID, "the access token is empty")
	}
	in := &ssm.PutParameterInput{
		Name: aws.String(TokenName(shop)), Value: aws.String(token), Type: types.ParameterTypeSecureString,
		Overwrite: aws.Bool(true), Description: aws.String("aftercare: Shopify Admin API access token of " + shop),
	}
	if t.KeyID != "" {
		in.KeyId = aws.String(t.KeyID)
	}
	_, err := t.SSM.PutParameter(ctx, in)
	return err
}

// Get reads a shop's token; ENOTFOUND when the shop was never connected.
func (t *Tokens) Get(ctx context.Context, shop string) (string, error) {
	if err := checkShop(shop); err != nil {
		return "", err
	}
	out, err := t.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(TokenName(shop)), WithDecryption: aws.Bool(true)})
	var nf *types.ParameterNotFound
	if errors.As(err, &nf) {
		return "", aftercare.Errorf(aftercare.ENOTFOUND, "no access token for %s at %s: run `aftercare connect --shop %s`", shop, TokenName(shop), shop)
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Parameter.Value), nil
}

// Delete removes a shop's token (idempotent: none stored is no error).
func (t *Tokens) Delete(ctx context.Context, shop string) error {
	if err := checkShop(shop); err != nil {
		return err
	}
	_, err := t.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(TokenName(shop))})
	var nf *types.ParameterNotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// checkShop keeps parameter names to real shop domains (no "/" tricks).
func checkShop(shop string) error {
	if !strings.HasSuffix(shop, ".myshopify.com") || strings.ContainsAny(shop, "/ ") || len(shop) > 128 {
		return aftercare.Errorf(aftercare.EINVALID, "%q is not a shop domain such as example.myshopify.com", shop)
	}
	return nil
}

// Shops lists the connected shops (those with a stored token), for the
// reconcile check's "for each connected shop". It reads names only.
func (t *Tokens) Shops(ctx context.Context) ([]string, error) {
	var out []string
	p := ssm.NewGetParametersByPathPaginator(t.SSM, &ssm.GetParametersByPathInput{Path: aws.String(strings.TrimSuffix(TokenPrefix, "/")), Recursive: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, prm := range page.Parameters {
			name := strings.TrimPrefix(aws.ToString(prm.Name), TokenPrefix)
			if shop, ok := strings.CutSuffix(name, "/admin-token"); ok && checkShop(shop) == nil {
				out = append(out, shop)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
