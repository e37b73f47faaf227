package unsubscribe

import (
	"fmt"
	"net/url"
)

// DefaultBase is the local HTTP API (make dev).
const DefaultBase = "http://127.0.0.1:3000"

// Config is what both ends of unsubscribe need: the secret and the API base.
type Config struct {
	Secret []byte
	Base   string
}

// LoadConfig reads UNSUBSCRIBE_SECRET and the API base: PUBLIC_API_URL (a
// custom domain), else API_URL (the template's execute-api URL), else the
// local API. Errors name the variable.
func LoadConfig(get func(string) string) (Config, error) {
	c := Config{Secret: []byte(get("UNSUBSCRIBE_SECRET")), Base: get("PUBLIC_API_URL")}
	if c.Base == "" {
		c.Base = get("API_URL")
	}
	if c.Base == "" {
		c.Base = DefaultBase
	}
	if u, err := url.Parse(c.Base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c, fmt.Errorf("config: PUBLIC_API_URL=%q is not an http(s) URL", c.Base)
	}
	if len(c.Secret) < 16 {
		return c, fmt.Errorf("config: UNSUBSCRIBE_SECRET must be set (at least 16 bytes)")
	}
	return c, nil
}

// Links for dispatch.
func (c Config) Links() Links { return Links{Signer: Signer{Secret: c.Secret}, Base: c.Base} }
