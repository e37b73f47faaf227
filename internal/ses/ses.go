// Package ses is the Amazon SES v2 email provider: it builds the raw MIME of a
// rendered message and sends it with SendEmail (Content.Raw), through the
// configuration set that publishes bounces and complaints.
package ses

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/mimemail"
)

// API is the part of the SES v2 client the provider uses.
type API interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Provider sends email through SES.
type Provider struct {
	API              API
	ConfigurationSet string // SES_CONFIGURATION_SET; empty sends without one
	Now              func() time.Time
}

// Deliver sends one email. SES's refusals of the message itself (bad address,
// unverified sender, account paused) are EINVALID, retried by no one; throttling
// and outages stay plain errors so the queue retries.
func (p *Provider) Deliver(ctx context.Context, m *delivery.Message) error {
	raw, err := Raw(m, p.now())
	if err != nil {
		return aftercare.Wrap(aftercare.EINVALID, err, "ses: build %s", m.ID)
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(fromAddress(m)),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
		EmailTags: []types.MessageTag{
			{Name: aws.String("kind"), Value: aws.String(string(m.Kind))},
			{Name: aws.String("category"), Value: aws.String(string(m.Category))},
		},
	}
	if p.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(p.ConfigurationSet)
	}
	if _, err := p.API.SendEmail(ctx, in); err != nil {
		var rejected *types.MessageRejected
		var notVerified *types.MailFromDomainNotVerifiedException
		var paused *types.SendingPausedException
		if errors.As(err, &rejected) || errors.As(err, &notVerified) || errors.As(err, &paused) {
			// A refusal can name the recipient; its text is logged and kept.
			return aftercare.Wrap(aftercare.EINVALID, delivery.ScrubError(err), "ses refused %s", m.ID)
		}
		return delivery.Transport(fmt.Errorf("ses send %s: %w", m.ID, delivery.ScrubError(err)))
	}
	return nil
}

// Raw is the MIME the provider sends for m.
func Raw(m *delivery.Message, now time.Time) ([]byte, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("email_from %q: %w", m.From, err)
	}
	if from.Name == "" {
		from.Name = m.FromName
	}
	return mimemail.Build(mimemail.Email{
		From: *from, To: mail.Address{Name: m.ToName, Address: m.To}, ReplyTo: m.ReplyTo,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, MessageID: m.ID, Shop: m.Shop, CustomerID: m.CustomerID,
		UnsubscribeURL: m.UnsubscribeURL, Date: now,
	})
}

func fromAddress(m *delivery.Message) string {
	if a, err := mail.ParseAddress(m.From); err == nil {
		return a.Address
	}
	return m.From
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
