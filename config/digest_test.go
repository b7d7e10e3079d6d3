package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDigests(t *testing.T) {
	weekly := func() Digest {
		return Digest{Name: "weekly", Schedule: "0 9 * * MON", TimeZone: "Europe/Paris", Destination: Destination{"slack", "C0LEADS"}}
	}
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		keys   []string
		msg    string
	}{
		{"None", func(c *Config) { c.Digests = nil }, nil, ""},
		{"OK", func(c *Config) {}, nil, ""},
		{"UTCByDefault", func(c *Config) { c.Digests[0].TimeZone = "" }, nil, ""},
		{"Descriptor", func(c *Config) { c.Digests[0].Schedule = "@weekly" }, nil, ""},
		{"Routes", func(c *Config) { c.Digests[0].Routes = []string{"billing", "rest"} }, nil, ""},
		{"Two", func(c *Config) {
			d := weekly()
			d.Name, d.Schedule = "monthly", "0 8 1 * *"
			c.Digests = append(c.Digests, d)
		}, nil, ""},

		{"NoName", func(c *Config) { c.Digests[0].Name = "" }, []string{"digests[0].name"},
			"digests[0].name: required: a short name for the digest, e.g. weekly"},
		{"BadName", func(c *Config) { c.Digests[0].Name = "Weekly digest" }, []string{"digests[0].name"},
			`digests[0].name: "Weekly digest" is not a valid name (want at most 40 lowercase letters, digits and -, e.g. weekly)`},
		{"LongName", func(c *Config) { c.Digests[0].Name = strings.Repeat("w", 41) }, []string{"digests[0].name"}, ""},
		{"DuplicateName", func(c *Config) { c.Digests = append(c.Digests, weekly()) }, []string{"digests[1].name"},
			`digests[1].name: "weekly" is already the name of digests[0]`},

		{"NoSchedule", func(c *Config) { c.Digests[0].Schedule = "" }, []string{"digests[0].schedule"},
			`digests[0].schedule: required: when to post, as a cron expression (minute hour day-of-month month day-of-week), e.g. "0 9 * * MON" for Mondays at 9:00`},
		{"SixFields", func(c *Config) { c.Digests[0].Schedule = "0 0 9 * * MON" }, []string{"digests[0].schedule"},
			`digests[0].schedule: "0 0 9 * * MON" is not a cron expression Liaison takes: has 6 fields, not 5 (minute hour day-of-month month day-of-week)`},
		{"Garbage", func(c *Config) { c.Digests[0].Schedule = "every monday" }, []string{"digests[0].schedule"}, "has 2 fields, not 5"},
		{"BadField", func(c *Config) { c.Digests[0].Schedule = "0 25 * * MON" }, []string{"digests[0].schedule"},
			`digests[0].schedule: "0 25 * * MON" is not a cron expression Liaison takes: end of range (25) above maximum (23)`},
		{"CronTZ", func(c *Config) { c.Digests[0].Schedule = "CRON_TZ=Europe/Paris 0 9 * * MON" }, []string{"digests[0].schedule"},
			"sets a time zone: the digest's time_zone key does that"},
		{"TZ", func(c *Config) { c.Digests[0].Schedule = "TZ=UTC 0 9 * * MON" }, []string{"digests[0].schedule"}, "the digest's time_zone key does that"},
		{"Every", func(c *Config) { c.Digests[0].Schedule = "@every 24h" }, []string{"digests[0].schedule"},
			"@every counts from whenever Liaison started, not from the clock"},
		{"Never", func(c *Config) { c.Digests[0].Schedule = "0 9 30 2 *" }, []string{"digests[0].schedule"},
			`digests[0].schedule: "0 9 30 2 *" never fires`},
		{"EveryMinuteOfAnHour", func(c *Config) { c.Digests[0].Schedule = "* 9 * * MON" }, []string{"digests[0].schedule"},
			`: a digest may post at most once an hour (a * in the minute field means every minute; want e.g. "0 9 * * MON")`},
		{"Hourly", func(c *Config) { c.Digests[0].Schedule = "0 * * * *" }, nil, ""},

		{"BadZone", func(c *Config) { c.Digests[0].TimeZone = "Paris" }, []string{"digests[0].time_zone"},
			`digests[0].time_zone: "Paris" is not a time zone Liaison knows: unknown time zone Paris (want an IANA name, e.g. Europe/Paris, or leave it out for UTC)`},
		{"LocalZone", func(c *Config) { c.Digests[0].TimeZone = "Local" }, []string{"digests[0].time_zone"}, "depends on the machine Liaison runs on"},

		{"NoDestination", func(c *Config) { c.Digests[0].Destination = Destination{} }, []string{"digests[0].destination"},
			"digests[0].destination: required: {connection: <an internal connection>, channel: <a channel id>}"},
		{"PublicDestination", func(c *Config) { c.Digests[0].Destination = Destination{"discord", "1100000000000000002"} },
			[]string{"digests[0].destination.connection"},
			`digests[0].destination.connection: connection "discord" has role public; a destination needs a connection with role internal or both`},
		{"UnknownConnection", func(c *Config) { c.Digests[0].Destination.Connection = "teams" }, []string{"digests[0].destination.connection"},
			`no connection named "teams"`},
		{"BadChannel", func(c *Config) { c.Digests[0].Destination.Channel = "#leads" }, []string{"digests[0].destination.channel"}, ""},
		{"NoChannel", func(c *Config) { c.Digests[0].Destination.Channel = "" }, []string{"digests[0].destination.channel"},
			"digests[0].destination.channel: required: the id of the channel to post in"},

		{"UnknownRoute", func(c *Config) { c.Digests[0].Routes = []string{"billing", "sales"} }, []string{"digests[0].routes[1]"},
			`digests[0].routes[1]: no route named "sales" (known: billing, rest)`},
		{"RouteTwice", func(c *Config) { c.Digests[0].Routes = []string{"billing", "billing"} }, []string{"digests[0].routes[1]"},
			`digests[0].routes[1]: route "billing" is listed twice`},
		{"ManyErrors", func(c *Config) {
			c.Digests[0] = Digest{Name: "x y", Schedule: "9am", TimeZone: "Mars/Olympus", Routes: []string{"nope"}}
		},
			[]string{"digests[0].name", "digests[0].time_zone", "digests[0].schedule", "digests[0].destination", "digests[0].routes[0]"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			c.Digests = []Digest{weekly()}
			tc.change(c)
			err := c.Validate()
			if tc.keys == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want errors on %q", tc.keys)
			}
			if got := keys(t, err); !reflect.DeepEqual(got, tc.keys) {
				t.Errorf("keys = %q, want %q\n%v", got, tc.keys, err)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("missing %q in:\n%v", tc.msg, err)
			}
		})
	}
}

// TestScheduleProblem says when a schedule fires too often.
func TestScheduleProblem(t *testing.T) {
	sunday := time.Date(2025, 1, 12, 12, 0, 0, 0, time.UTC)
	for spec, want := range map[string]string{
		"0 9 * * MON":   "",
		"0 9,10 * * *":  "",
		"* 9 * * MON":   "fires at Mon 09:00 and again at 09:01: a digest may post at most once an hour",
		"30,45 9 * * *": "fires at Mon 09:30 and again at 09:45",
	} {
		s, err := digestSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := scheduleProblem(s, sunday); want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("%q: problem %q, want %q", spec, got, want)
		}
	}
}

// TestDigestPlan: the schedule fires in the digest's time zone.
func TestDigestPlan(t *testing.T) {
	d := Digest{Name: "weekly", Schedule: "0 9 * * MON", TimeZone: "Europe/Paris"}
	s, loc, err := d.Plan()
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 12 January 2025, noon in Paris: next Monday 9:00 Paris is 8:00 UTC.
	got := s.Next(time.Date(2025, 1, 12, 12, 0, 0, 0, loc))
	if want := time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next firing = %s, want %s", got.UTC(), want)
	}
	d.TimeZone = ""
	if _, loc, _ := d.Plan(); loc != time.UTC {
		t.Errorf("location without time_zone = %v, want UTC", loc)
	}
}

// TestDigestYAML: a digest reads from the config file as documented.
func TestDigestYAML(t *testing.T) {
	c, err := Parse([]byte(`
company: Acme
connections:
  - {name: community, platform: discord, role: public, token: "MTA.GaB.xyz", guild_id: "123456789012345678"}
  - {name: internal, platform: slack, role: internal, bot_token: xoxb-1, app_token: xapp-1}
sources:
  - {name: help, connection: community, channels: ["1100000000000000001"]}
routes:
  - {name: billing, default: true, destination: {connection: internal, channel: C0BILLING}, approvers: [U0BOSS]}
digests:
  - name: weekly
    schedule: "0 9 * * MON"
    time_zone: Europe/Paris
    destination: {connection: internal, channel: C0LEADS}
    routes: [billing]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Digest{{Name: "weekly", Schedule: "0 9 * * MON", TimeZone: "Europe/Paris", Destination: Destination{"internal", "C0LEADS"}, Routes: []string{"billing"}}}
	if !reflect.DeepEqual(c.Digests, want) {
		t.Errorf("digests = %+v, want %+v", c.Digests, want)
	}
}
