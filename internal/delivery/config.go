package delivery

import "fmt"

// Providers is the deployment's choice of providers per channel.
type Providers struct {
	Email, SMS string
	// SESConfigurationSet publishes bounces and complaints (SES_CONFIGURATION_SET).
	SESConfigurationSet string
}

// EmailProviders and SMSProviders are the valid names per channel.
var (
	EmailProviders = []string{ProviderSES, ProviderWebhook, ProviderLog}
	SMSProviders   = []string{ProviderSNS, ProviderWebhook, ProviderLog}
)

// LoadProviders reads EMAIL_PROVIDER and SMS_PROVIDER. When unset: webhook if
// DELIVERY_URL is set, else log (SPEC 11). Errors name the variable.
func LoadProviders(get func(string) string) (Providers, error) {
	def := ProviderLog
	if get("DELIVERY_URL") != "" {
		def = ProviderWebhook
	}
	p := Providers{Email: or(get("EMAIL_PROVIDER"), def), SMS: or(get("SMS_PROVIDER"), def),
		SESConfigurationSet: get("SES_CONFIGURATION_SET")}
	if !ValidProvider(p.Email, EmailProviders) {
		return p, fmt.Errorf("config: EMAIL_PROVIDER=%q must be one of %v", p.Email, EmailProviders)
	}
	if !ValidProvider(p.SMS, SMSProviders) {
		return p, fmt.Errorf("config: SMS_PROVIDER=%q must be one of %v", p.SMS, SMSProviders)
	}
	if (p.Email == ProviderWebhook || p.SMS == ProviderWebhook) && get("DELIVERY_URL") == "" {
		return p, fmt.Errorf("config: the webhook provider needs DELIVERY_URL")
	}
	return p, nil
}

// ValidProvider reports whether name is one of valid.
func ValidProvider(name string, valid []string) bool {
	for _, v := range valid {
		if name == v {
			return true
		}
	}
	return false
}
