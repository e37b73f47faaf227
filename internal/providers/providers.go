// Package providers wires the delivery router of DispatchFunction: every
// provider per channel, the defaults from EMAIL_PROVIDER / SMS_PROVIDER, so a
// shop's settings can pick any of them.
package providers

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/ses"
	"github.com/aftercare/aftercare/internal/sns"
)

// Config is what the router needs from the environment.
type Config struct {
	Providers     delivery.Providers // LoadProviders
	DeliveryURL   string
	SigningSecret []byte
	Timeout       time.Duration
}

// New builds the router. SDK clients make no call until used, so building
// the SES and SNS providers costs nothing for a deployment that never uses them.
func New(cfg Config, awsCfg aws.Config, log *slog.Logger) (*delivery.Router, error) {
	logP := delivery.Log{Log: log}
	r := &delivery.Router{
		Email: map[string]delivery.Provider{
			delivery.ProviderLog: logP,
			delivery.ProviderSES: &ses.Provider{API: sesv2.NewFromConfig(awsCfg), ConfigurationSet: cfg.Providers.SESConfigurationSet},
		},
		SMS: map[string]delivery.Provider{
			delivery.ProviderLog: logP,
			delivery.ProviderSNS: &sns.Provider{API: awssns.NewFromConfig(awsCfg)},
		},
		DefaultEmail: cfg.Providers.Email,
		DefaultSMS:   cfg.Providers.SMS,
	}
	if cfg.DeliveryURL != "" {
		if err := delivery.CheckURL(cfg.DeliveryURL); err != nil {
			return nil, err
		}
		h := delivery.New(cfg.DeliveryURL, cfg.SigningSecret, cfg.Timeout)
		r.Email[delivery.ProviderWebhook], r.SMS[delivery.ProviderWebhook] = h, h
	}
	return r, r.Check()
}
