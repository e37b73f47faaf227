package report_test

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/report"
)

func TestLoadConfigNamesWhatIsWrong(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for want, vars := range map[string]map[string]string{
		"TABLE_NAME":   {"REPORT_TOKEN": "0123456789abcdef"},
		"REPORT_TOKEN": {"TABLE_NAME": "t", "REPORT_TOKEN": "short"},
	} {
		if _, err := report.LoadConfig(env(vars)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one naming %s", vars, err, want)
		}
	}
	c, err := report.LoadConfig(env(map[string]string{"TABLE_NAME": "t", "REPORT_TOKEN": "0123456789abcdef", "LOG_LEVEL": "WARN"}))
	if err != nil || c.Table != "t" || c.Token != "0123456789abcdef" || c.LogLevel != "WARN" {
		t.Errorf("config %+v, %v", c, err)
	}
}
