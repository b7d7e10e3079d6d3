package bot_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/liaison-bot/liaison/bot"
)

// bidiControls are Unicode's explicit bidirectional formatting characters,
// listed here apart from the sanitiser's own test of them.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// checkRelayable fails unless out is safe to show on Slack and on Discord:
// valid UTF-8, no ping, no bidi control, and no "](": Discord renders
// [label](url) as a link only with "](" adjacent, so without it no label
// can hide where a link goes.
func checkRelayable(t *testing.T, in, out string) {
	t.Helper()
	switch {
	case !utf8.ValidString(out):
		t.Fatalf("Sanitize(%q) = %q is not valid UTF-8", in, out)
	case bot.HasPing(out):
		t.Fatalf("Sanitize(%q) = %q pings", in, out)
	case strings.ContainsAny(out, bidiControls):
		t.Fatalf("Sanitize(%q) = %q keeps a bidi control", in, out)
	case strings.Contains(out, "]("):
		t.Fatalf("Sanitize(%q) = %q keeps a masked link", in, out)
	}
}

var fuzzSeeds = []string{
	"<!channel>", "@everyone", "<@U1|x>", "<@&1>", "<@!1>", "<!subteam^S1|@t>", "@@here", "<<!!here>>",
	"\u200b@everyone", "@\u0000everyone", "@\u202eeveryone", "<[@everyone](https://x.test)",
	"safe text \u202egnp.exe", "\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
	"[https://acme.com](https://evil.example)", "[https://acme.com](<https://evil.example>)",
	"[[https://acme.com]](https://evil.example)", "[[a](https://one.example)](https://two.example)",
	"\\[https://acme.com\\](https://evil.example)", "[a\\](https://evil.example)", "x\\](https://evil.example) [y",
	"[a]\u200e(https://evil.example)", "[a](https://evil.example \"t\")", "[a\nb](https://evil.example)",
	"[[[[a](http://1)](http://2)](http://3)](http://4)](http://5)", "\xff[a](http://x)\xfe",
}

// FuzzSanitize: whatever a member or a staff member writes, the sanitised
// text pings nobody, has no bidi control and no masked link, is valid
// UTF-8, and sanitising it again changes nothing.
func FuzzSanitize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := bot.Sanitize(in)
		checkRelayable(t, in, out)
		if again := bot.Sanitize(out); again != out {
			t.Fatalf("not idempotent on %q: %q then %q", in, out, again)
		}
	})
}

// FuzzSanitizeShowsLinkTarget: whatever the label of a masked link, the
// URL it goes to is shown in full, so a reader can see where it leads.
func FuzzSanitizeShowsLinkTarget(f *testing.F) {
	for _, s := range []struct{ label, path string }{
		{"https://acme.com", "login"}, {"", ""}, {"[nested]", "a/b"}, {"x\\", "p"}, {"\u202e", "gnp.exe"},
		{"a](https://acme.com", "x"}, {"@everyone", "here"}, {"<@1>", "..."}, {"a\nb", "c"},
	} {
		f.Add(s.label, s.path)
	}
	f.Fuzz(func(t *testing.T, label, path string) {
		// A path of URL characters that the sanitiser never touches.
		path = strings.Map(func(r rune) rune {
			if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("./_-", r)) {
				return r
			}
			return -1
		}, path)
		url := "https://evil.example/" + path
		for _, in := range []string{"[" + label + "](" + url + ")", "[" + label + "](<" + url + ">)"} {
			out := bot.Sanitize(in)
			checkRelayable(t, in, out)
			if !strings.Contains(out, url) {
				t.Fatalf("Sanitize(%q) = %q hides %q", in, out, url)
			}
		}
	})
}
