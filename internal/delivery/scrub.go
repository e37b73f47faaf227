package delivery

import "regexp"

// Contacts in a provider's free text: an email address, or a phone number
// in the international form SMS needs (a plus, then 7 to 15 digits, maybe
// with spaces, dashes or brackets). Dates and ids have no plus sign.
var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	phoneRE = regexp.MustCompile(`\+\d(?:[ \-().]{0,2}\d){6,14}`)
)

// Scrub replaces the email addresses and phone numbers in outside text
// (an SES refusal can name the recipient, an SNS one the number, a
// receiver's error page anything) before it is logged or kept in the
// ledger: logs and ledger reasons outlive customers/redact. It lives here,
// not in the domain, so only the function that delivers compiles its
// patterns at start.
func Scrub(s string) string {
	s = emailRE.ReplaceAllString(s, "<email>")
	return phoneRE.ReplaceAllString(s, "<phone>")
}

// ScrubError is err with its text scrubbed; errors.Is and errors.As still
// see the whole chain beneath it (the delivery code reads API error codes).
func ScrubError(err error) error {
	if err == nil {
		return nil
	}
	return scrubbed{err}
}

type scrubbed struct{ err error }

func (e scrubbed) Error() string { return Scrub(e.err.Error()) }
func (e scrubbed) Unwrap() error { return e.err }
