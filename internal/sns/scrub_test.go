package sns_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/sns"
)

type refusing struct{ err error }

func (r refusing) Publish(context.Context, *awssns.PublishInput, ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	return nil, r.err
}

// SNS names the number it refuses; the error keeps its code (so it is not
// an unknown outcome) and loses the number.
func TestRefusalNamesNoNumber(t *testing.T) {
	p := &sns.Provider{API: refusing{&types.InvalidParameterException{Message: aws.String(
		"Invalid parameter: PhoneNumber Reason: +15555550123 is not valid to publish to")}}}
	err := p.Deliver(context.Background(), &delivery.Message{ID: "order_shipped-x", Kind: aftercare.KindOrderShipped,
		Category: aftercare.Transactional, Channel: aftercare.ChannelSMS, To: "+15555550123", Text: "t"})
	if err == nil || strings.Contains(err.Error(), "5555550123") {
		t.Fatalf("refusal = %v, want an error without the number", err)
	}
	if errors.Is(err, delivery.ErrUnknownOutcome) {
		t.Errorf("refusal %v counted as an unknown outcome: SNS answered", err)
	}
}
