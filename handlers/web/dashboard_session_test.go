package web

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// TestDashboardSession: a sign-in cookie holds its expiry and an HMAC of
// it keyed by the token; it is refused once expired, altered, or made with
// another token.
func TestDashboardSession(t *testing.T) {
	const token = "session-token-0123456789abcdef"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := &dashboard{key: []byte(token), sum: sha256.Sum256([]byte(token)), now: func() time.Time { return now }}
	v := d.session(now.Add(DashboardSession))
	if !d.validSession(v) {
		t.Fatalf("a fresh session %q is refused", v)
	}
	if strings.Contains(v, token) {
		t.Errorf("the cookie %q holds the token", v)
	}
	exp, sig, _ := strings.Cut(v, ".")
	flip := []byte(sig)
	flip[3] ^= 1
	other := &dashboard{key: []byte(token + "2"), now: d.now}
	for name, bad := range map[string]string{
		"Expired":         d.session(now.Add(-time.Second)),
		"ExpiresNow":      d.session(now),
		"LaterExpiry":     "9" + exp + "." + sig,
		"AlteredMAC":      exp + "." + string(flip),
		"NoMAC":           exp + ".",
		"NoDot":           exp + sig,
		"Empty":           "",
		"OtherToken":      other.session(now.Add(time.Hour)),
		"NotBase64":       exp + ".!!!!",
		"NotANumber":      "soon." + sig,
		"TheTokenItself":  token,
		"TruncatedMAC":    exp + "." + sig[:len(sig)/2],
		"ExtraPartOnMAC":  v + ".x",
		"ExtraPartBefore": "1." + v,
	} {
		if d.validSession(bad) {
			t.Errorf("%s: %q accepted", name, bad)
		}
	}
	now = now.Add(DashboardSession - time.Second)
	if !d.validSession(v) {
		t.Error("refused a second before its expiry")
	}
	now = now.Add(time.Second)
	if d.validSession(v) {
		t.Error("accepted at its expiry")
	}
}

func TestDashboardTokenCompare(t *testing.T) {
	const token = "session-token-0123456789abcdef"
	d := &dashboard{key: []byte(token), sum: sha256.Sum256([]byte(token))}
	for s, want := range map[string]bool{token: true, "": false, token[:10]: false, token + " ": false, strings.ToUpper(token): false} {
		if got := d.isToken(s); got != want {
			t.Errorf("isToken(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestHistogram(t *testing.T) {
	h := histogram([]time.Duration{0, 59 * time.Minute, time.Hour, 4*time.Hour - 1, 4 * time.Hour, 24 * time.Hour, 72*time.Hour - 1, 72 * time.Hour, 400 * time.Hour})
	want := []bucket{{"< 1 h", 2}, {"1–4 h", 2}, {"4–24 h", 1}, {"1–3 d", 2}, {"> 3 d", 2}}
	for i := range want {
		if h[i] != want[i] {
			t.Errorf("histogram = %v, want %v", h, want)
			break
		}
	}
}

func TestWebLink(t *testing.T) {
	for in, want := range map[string]string{
		"https://discord.com/channels/1/2/3": "https://discord.com/channels/1/2/3",
		"http://127.0.0.1:9000/archives/C1":  "http://127.0.0.1:9000/archives/C1",
		"javascript:alert(1)":                "",
		"JavaScript:alert(1)":                "",
		"data:text/html,<b>x</b>":            "",
		"//evil.example/x":                   "",
		"":                                   "",
		"https://":                           "",
	} {
		if got := webLink(in); got != want {
			t.Errorf("webLink(%q) = %q, want %q", in, got, want)
		}
	}
}
