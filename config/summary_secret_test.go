package config

import (
	"strings"
	"testing"
)

// TestSummaryHidesAPIURLPassword: a base URL with a proxy's credentials is
// summarised without its password.
func TestSummaryHidesAPIURLPassword(t *testing.T) {
	c := &Config{Connections: []Connection{{Name: "community", Platform: Discord, GuildID: "1", APIURL: "https://liaison:proxy-s3cret@proxy.example"}}}
	s := c.Summary()
	if strings.Contains(s, "proxy-s3cret") || !strings.Contains(s, "API https://liaison:xxxxx@proxy.example") {
		t.Errorf("summary:\n%s", s)
	}
}
