package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// withHours is testdata/minimal.yaml with the route's hours set to block,
// a YAML mapping indented for the hours key.
func withHours(block string) []byte {
	return []byte(`company: Acme
connections:
  - name: acme-slack
    platform: slack
    bot_token: ${SLACK_BOT_TOKEN}
    app_token: ${SLACK_APP_TOKEN}
sources:
  - name: help
    connection: acme-slack
    channels: [C0HELP]
routes:
  - name: everything
    default: true
    destination: {connection: acme-slack, channel: C0TEAM}
    approvers: [U0BOSS]
    sla: 4h
    hours:
` + block)
}

func TestHoursValid(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	weekdays := [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}
	for _, tc := range []struct {
		name       string
		block      string
		days       [7]bool
		start, end time.Duration
		holidays   []string
	}{
		{"short names", `      time_zone: Europe/Paris
      days: [mon, tue, wed, thu, fri]
      start: "09:00"
      end: "18:00"
      holidays: ["2026-12-25", "2027-01-01"]
`, weekdays, 9 * time.Hour, 18 * time.Hour, []string{"2026-12-25", "2027-01-01"}},
		{"full names in any case, unquoted times and dates", `      time_zone: Europe/Paris
      days: [Monday, TUESDAY, wed, Thu, friday]
      start: 9:30
      end: 17:45
      holidays: [2026-12-25]
`, weekdays, 9*time.Hour + 30*time.Minute, 17*time.Hour + 45*time.Minute, []string{"2026-12-25"}},
		{"until midnight, weekend only", `      time_zone: Europe/Paris
      days: [sat, sun]
      start: "00:00"
      end: "24:00"
`, [7]bool{time.Saturday: true, time.Sunday: true}, 0, 24 * time.Hour, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(withHours(tc.block), env(minimalEnv))
			if err != nil {
				t.Fatalf("does not parse:\n%v", err)
			}
			h := c.Routes[0].Hours
			if h == nil {
				t.Fatal("no hours")
			}
			if !reflect.DeepEqual(h.Holidays, tc.holidays) {
				t.Errorf("holidays = %q, want %q", h.Holidays, tc.holidays)
			}
			loc, days, start, end, err := h.Parse()
			if err != nil {
				t.Fatal(err)
			}
			if loc.String() != paris.String() || days != tc.days || start != tc.start || end != tc.end {
				t.Errorf("Parse = %s, %v, %s, %s; want %s, %v, %s, %s", loc, days, start, end, paris, tc.days, tc.start, tc.end)
			}
		})
	}

	t.Run("none", func(t *testing.T) {
		c, err := Parse(withHours(""), env(minimalEnv))
		if err != nil {
			t.Fatal(err)
		}
		if c.Routes[0].Hours != nil {
			t.Errorf("hours = %+v, want none", c.Routes[0].Hours)
		}
	})
}

func TestHoursInvalid(t *testing.T) {
	const (
		zone = "      time_zone: Europe/Paris\n"
		days = "      days: [mon, tue, wed, thu, fri]\n"
		nine = "      start: \"09:00\"\n"
		six  = "      end: \"18:00\"\n"
	)
	for _, tc := range []struct {
		name  string
		block string
		want  []string // every error line, in order
	}{
		{"no time zone", days + nine + six,
			[]string{`routes[0].hours.time_zone: required: the team's IANA time zone, e.g. Europe/Paris or America/New_York`}},
		{"unknown time zone", "      time_zone: Mars/Olympus_Mons\n" + days + nine + six,
			[]string{`routes[0].hours.time_zone: "Mars/Olympus_Mons" is not a known time zone (want an IANA time zone name, e.g. Europe/Paris or America/New_York)`}},
		{"the machine's zone", "      time_zone: Local\n" + days + nine + six,
			[]string{`routes[0].hours.time_zone: "Local" is this machine's zone, which may change with the host (want an IANA time zone name, e.g. Europe/Paris or America/New_York)`}},
		{"no days", zone + nine + six,
			[]string{`routes[0].hours.days: at least one working day is required, e.g. [mon, tue, wed, thu, fri]`}},
		{"empty days", zone + "      days: []\n" + nine + six,
			[]string{`routes[0].hours.days: at least one working day is required, e.g. [mon, tue, wed, thu, fri]`}},
		{"not a day", zone + "      days: [mon, funday, \"\"]\n" + nine + six,
			[]string{
				`routes[0].hours.days[1]: "funday" is not a day of the week (want mon, tue, wed, thu, fri, sat or sun)`,
				`routes[0].hours.days[2]: "" is not a day of the week (want mon, tue, wed, thu, fri, sat or sun)`,
			}},
		{"a day twice", zone + "      days: [mon, tue, Monday]\n" + nine + six,
			[]string{`routes[0].hours.days[2]: "Monday" is the same day as days[0] ("mon")`}},
		{"no start", zone + days + six,
			[]string{`routes[0].hours.start: required: when the working day starts, as HH:MM, e.g. "09:00"`}},
		{"no end", zone + days + nine,
			[]string{`routes[0].hours.end: required: when the working day ends, as HH:MM, e.g. "18:00" (or "24:00" for midnight)`}},
		{"start not a time", zone + days + "      start: 9am\n" + six,
			[]string{`routes[0].hours.start: "9am" is not a time of day (want HH:MM from 00:00 to 23:59, e.g. "09:00")`}},
		{"start past the hours of a day", zone + days + "      start: \"25:00\"\n" + six,
			[]string{`routes[0].hours.start: "25:00" is not a time of day (want HH:MM from 00:00 to 23:59, e.g. "09:00")`}},
		{"start at midnight's end", zone + days + "      start: \"24:00\"\n" + six,
			[]string{`routes[0].hours.start: "24:00" is not a time of day (want HH:MM from 00:00 to 23:59, e.g. "09:00")`}},
		{"minutes out of range", zone + days + nine + "      end: \"17:60\"\n",
			[]string{`routes[0].hours.end: "17:60" is not a time of day (want HH:MM from 00:01 to 24:00, e.g. "18:00")`}},
		{"end past midnight", zone + days + nine + "      end: \"24:30\"\n",
			[]string{`routes[0].hours.end: "24:30" is not a time of day (want HH:MM from 00:01 to 24:00, e.g. "18:00")`}},
		{"end before start", zone + days + "      start: \"18:00\"\n      end: \"09:00\"\n",
			[]string{`routes[0].hours.end: "09:00" is not after start ("18:00"): a working day ends by midnight (want e.g. start "09:00", end "18:00")`}},
		{"end equals start", zone + days + nine + "      end: \"09:00\"\n",
			[]string{`routes[0].hours.end: "09:00" is not after start ("09:00"): a working day ends by midnight (want e.g. start "09:00", end "18:00")`}},
		{"holidays not dates", zone + days + nine + six + "      holidays: [\"2026-02-30\", \"25/12/2026\", \"2026-1-5\"]\n",
			[]string{
				`routes[0].hours.holidays[0]: "2026-02-30" is not a date (want YYYY-MM-DD, e.g. 2026-12-25)`,
				`routes[0].hours.holidays[1]: "25/12/2026" is not a date (want YYYY-MM-DD, e.g. 2026-12-25)`,
				`routes[0].hours.holidays[2]: "2026-1-5" is not a date (want YYYY-MM-DD, e.g. 2026-12-25)`,
			}},
		{"a holiday twice", zone + days + nine + six + "      holidays: [2026-12-25, 2027-01-01, 2026-12-25]\n",
			[]string{`routes[0].hours.holidays[2]: 2026-12-25 is already holidays[0]`}},
		{"empty hours", "      {}\n",
			[]string{
				`routes[0].hours.time_zone: required: the team's IANA time zone, e.g. Europe/Paris or America/New_York`,
				`routes[0].hours.days: at least one working day is required, e.g. [mon, tue, wed, thu, fri]`,
				`routes[0].hours.start: required: when the working day starts, as HH:MM, e.g. "09:00"`,
				`routes[0].hours.end: required: when the working day ends, as HH:MM, e.g. "18:00" (or "24:00" for midnight)`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(withHours(tc.block), env(minimalEnv))
			if err == nil {
				t.Fatal("no error")
			}
			keys(t, err) // must be field errors
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestHoursParseRefuses: Parse on hours that fail validation gives the
// first problem, not a half-read result.
func TestHoursParseRefuses(t *testing.T) {
	h := &Hours{TimeZone: "Europe/Paris", Days: []string{"mon"}, Start: "18:00", End: "09:00"}
	loc, _, _, _, err := h.Parse()
	if err == nil || loc != nil {
		t.Fatalf("Parse = %v, %v; want an error", loc, err)
	}
	if want := `hours.end: "09:00" is not after start ("18:00")`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start with %q", err, want)
	}
}
