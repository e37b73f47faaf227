// Package sns is the Amazon SNS SMS provider: Publish to a phone number, SMS
// type Transactional or Promotional by the message's category.
package sns

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
)

// OptOut ends every marketing SMS (SPEC 11).
const OptOut = "Reply STOP to opt out"

// API is the part of the SNS client the provider uses.
type API interface {
	Publish(context.Context, *awssns.PublishInput, ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

// Provider sends SMS through SNS.
type Provider struct {
	API API
}

// Deliver publishes one SMS.
func (p *Provider) Deliver(ctx context.Context, m *delivery.Message) error {
	if m.To == "" {
		return aftercare.Errorf(aftercare.EINVALID, "sns: message %s has no phone number", m.ID)
	}
	typ := "Transactional"
	if m.Marketing() {
		typ = "Promotional"
	}
	_, err := p.API.Publish(ctx, &awssns.PublishInput{
		PhoneNumber: aws.String(m.To),
		Message:     aws.String(Body(m)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String(typ)},
		},
	})
	if err != nil {
		// SNS's errors can name the number; their text is logged and kept.
		return delivery.Transport(fmt.Errorf("sns publish %s: %w", m.ID, delivery.ScrubError(err)))
	}
	return nil
}

// Body is the text sent: a marketing SMS always ends with the opt-out line,
// whatever its template says.
func Body(m *delivery.Message) string {
	text := strings.TrimSpace(m.Text)
	if m.Marketing() && !strings.Contains(strings.ToLower(text), strings.ToLower(OptOut)) {
		text += " " + OptOut + "."
	}
	return text
}
