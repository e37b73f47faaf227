package report

import "github.com/aftercare/aftercare/internal/aftercare"

// Config is ReportFunction's configuration.
type Config struct {
	Table    string
	Token    string // REPORT_TOKEN: the bearer token and the key of signed links
	LogLevel string
}

// LoadConfig reads the configuration, naming the variable that is missing.
// (The registry's bootstrap will resolve REPORT_TOKEN from SSM into the same
// variable; this stays the one place it is read.)
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Table: getenv("TABLE_NAME"), Token: getenv("REPORT_TOKEN"), LogLevel: getenv("LOG_LEVEL")}
	switch {
	case c.Table == "":
		return c, aftercare.Errorf(aftercare.EINVALID, "TABLE_NAME is not set")
	case len(c.Token) < 16:
		return c, aftercare.Errorf(aftercare.EINVALID, "REPORT_TOKEN must be at least 16 characters")
	}
	return c, nil
}
