package ses_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/ses"
)

type refusing struct{ err error }

func (r refusing) SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return nil, r.err
}

// SES in its sandbox refuses an unverified recipient by naming it; the
// refusal is still permanent, and its text (logged, kept as the ledger's
// reason) no longer names the customer.
func TestRefusalNamesNoRecipient(t *testing.T) {
	p := &ses.Provider{API: refusing{&types.MessageRejected{Message: aws.String(
		"Email address is not verified. The following identities failed the check in region US-EAST-1: ada@example.org")}}}
	err := p.Deliver(context.Background(), &delivery.Message{ID: "order_shipped-x", Kind: aftercare.KindOrderShipped,
		Category: aftercare.Transactional, To: "ada@example.org", From: "shop@example.com", Subject: "s", Text: "t", HTML: "<p>t</p>"})
	if aftercare.ErrorCode(err) != aftercare.EINVALID {
		t.Fatalf("refusal: %v (code %s), want EINVALID", err, aftercare.ErrorCode(err))
	}
	var rejected *types.MessageRejected
	if strings.Contains(err.Error(), "ada@example.org") || !errors.As(err, &rejected) {
		t.Errorf("refusal = %q, want it scrubbed with the SES error still in its chain", err)
	}
}
