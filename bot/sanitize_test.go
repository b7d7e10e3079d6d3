package bot_test

import (
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in string
		keep     string // a substring the reader must still see
	}{
		{"SlackChannel", "hey <!channel> look", "channel"},
		{"SlackHere", "<!here>", "here"},
		{"SlackEveryone", "<!everyone> hi", "everyone"},
		{"SlackChannelLabel", "<!channel|@channel>", "channel"},
		{"SlackSubteam", "ping <!subteam^S0123ABC|@leads>", "subteam"},
		{"SlackUser", "cc <@U0123ABC>", "U0123ABC"},
		{"SlackUserLabel", "cc <@U0123ABC|alice>", "alice"},
		{"SlackEnterpriseUser", "<@W0123ABC>", "W0123ABC"},
		{"SlackBareChannel", "@channel please", "channel"},
		{"DiscordEveryone", "@everyone free nitro", "everyone"},
		{"DiscordHere", "@here", "here"},
		{"DiscordUpper", "@EVERYONE", "EVERYONE"},
		{"DiscordUser", "thanks <@123456789012345678>", "123456789012345678"},
		{"DiscordNick", "thanks <@!123456789012345678>", "123456789012345678"},
		{"DiscordRole", "<@&987654321098765432> help", "987654321098765432"},
		{"Glued", "x@everyone<@1><!here>", "x"},
		{"Nested", "<<@@everyone>>", "everyone"},
		{"ControlChars", "a\x00<@1>\x07b", "b"},
		{"Plain", "how do I reset my password?", "how do I reset my password?"},
		{"Email", "mail me at bob@example.com", "bob@example.com"},
		{"BidiHidesBroadcast", "@\u202eeveryone", "everyone"},
		{"MaskedLinkMakesMention", "<[@everyone](https://x.test)", "everyone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.Sanitize(tt.in)
			if bot.HasPing(got) {
				t.Fatalf("Sanitize(%q) = %q still pings", tt.in, got)
			}
			if !strings.Contains(got, tt.keep) {
				t.Fatalf("Sanitize(%q) = %q lost %q", tt.in, got, tt.keep)
			}
			if again := bot.Sanitize(got); again != got {
				t.Fatalf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

// TestSanitizeDisguises: text that pings nobody can still mislead. Bidi
// controls reorder what is shown ("gnp.exe" reads "exe.png"), and a masked
// link shows one URL and opens another. The sanitiser removes the first and
// writes the second out as "label (url)", on both platforms, so the reader
// sees every URL a link goes to.
func TestSanitizeDisguises(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"RLO", "safe text \u202egnp.exe", "safe text gnp.exe"},
		{"EveryBidiControl", "a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j\u200ek\u200fl\u061cm", "abcdefghijklm"},
		{"RightToLeftScript", "שלום עולם مرحبا", "שלום עולם مرحبا"},
		{"BidiInURL", "https://acme.com/\u202etxt.exe", "https://acme.com/txt.exe"},
		{"MaskedLink", "[https://acme.com](https://evil.example)", "https://acme.com (https://evil.example)"},
		{"MaskedLinkInText", "see [the docs](https://evil.example/x?a=1&b=2) now", "see the docs (https://evil.example/x?a=1&b=2) now"},
		{"AngleURL", "[https://acme.com](<https://evil.example>)", "https://acme.com (https://evil.example)"},
		{"Spaces", "[ https://acme.com ]( https://evil.example )", "https://acme.com (https://evil.example)"},
		{"NestedBrackets", "[[https://acme.com]](https://evil.example)", "[https://acme.com] (https://evil.example)"},
		{"NestedLink", "[[a](https://one.example)](https://two.example)", "a (https://one.example) (https://two.example)"},
		{"ParensInURL", "[wiki](https://evil.example/a_(b)) ok", "wiki (https://evil.example/a_(b)) ok"},
		{"EscapedBrackets", "\\[https://acme.com\\](https://evil.example)", "https://acme.com (https://evil.example)"},
		{"EscapedClose", "[https://acme.com\\](https://evil.example)", "https://acme.com (https://evil.example)"},
		{"BidiBetween", "[https://acme.com]\u200e(https://evil.example)", "https://acme.com (https://evil.example)"},
		{"ControlBetween", "[https://acme.com]\x00(https://evil.example)", "https://acme.com (https://evil.example)"},
		{"EmptyLabel", "[](https://evil.example)", "https://evil.example"},
		{"LabelIsURL", "[https://acme.com](https://acme.com)", "https://acme.com"},
		{"MultiLine", "[https://acme.com\nlogin](https://evil.example)", "[https://acme.com\nlogin]\u200b(https://evil.example)"},
		{"Title", `[https://acme.com](https://evil.example "Acme")`, "[https://acme.com]\u200b(https://evil.example \"Acme\")"},
		{"Unbalanced", "x\\](https://evil.example) [y", "x\\]\u200b(https://evil.example) [y"},
		{"Code", "call f[0](x), then [a](b)", "call f[0]\u200b(x), then [a]\u200b(b)"},
		{"SlackLinkAsPlainText", "https://acme.com (https://evil.example)", "https://acme.com (https://evil.example)"},
		{"LinkThenMention", "<[@U1](https://x.test)>", "<\u200b@U1 (https://x.test)>"},
		{"Plain", "brackets [like this] (and this)", "brackets [like this] (and this)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.Sanitize(tt.in)
			if got != tt.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := bot.Sanitize(got); again != got {
				t.Fatalf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestHasPing(t *testing.T) {
	for _, s := range []string{"<!channel>", "<!here>", "<@U1>", "<@&1>", "<@!1>", "@everyone", "@here", "@channel", "<!subteam^S1>"} {
		if !bot.HasPing(s) {
			t.Errorf("HasPing(%q) = false", s)
		}
	}
	for _, s := range []string{"hello", "a@b.com", "<#C123>", "&lt;!channel&gt;"} {
		if bot.HasPing(s) {
			t.Errorf("HasPing(%q) = true", s)
		}
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("word ", 400)
	got, cut := bot.Truncate(long, 100, "https://x.test/m/1")
	if !cut || len([]rune(got)) > 100+80 || !strings.Contains(got, "https://x.test/m/1") {
		t.Fatalf("Truncate = %q (cut %v)", got, cut)
	}
	if got, cut := bot.Truncate("short", 100, "l"); cut || got != "short" {
		t.Fatalf("short text changed: %q", got)
	}
	// Multi-byte text is cut on a rune boundary.
	got, _ = bot.Truncate(strings.Repeat("é", 300), 10, "")
	if !strings.HasPrefix(got, strings.Repeat("é", 10)) {
		t.Fatalf("bad cut: %q", got)
	}
}

func TestAttribute(t *testing.T) {
	p := &bot.Profile{Name: "Alice Martin", Title: "Product Manager", AvatarURL: "https://a.test/alice.png"}
	post := bot.Attribute(p, "Acme", "Hi @everyone, fixed in <@&42>!", "111111111111111111", "https://d.test/m/1")
	if post.Username != "Alice Martin · Acme" || post.AvatarURL != p.AvatarURL {
		t.Fatalf("identity = %q %q", post.Username, post.AvatarURL)
	}
	if post.Signature != "— Alice Martin, Product Manager at Acme" {
		t.Fatalf("signature = %q", post.Signature)
	}
	if !strings.HasPrefix(post.Body, "<@111111111111111111> ") {
		t.Fatalf("body does not mention the member first: %q", post.Body)
	}
	rest := strings.TrimPrefix(post.Body, "<@111111111111111111> ")
	if bot.HasPing(rest) {
		t.Fatalf("reply body pings: %q", rest)
	}
	if got := post.Text(false); !strings.HasSuffix(got, "\n— Alice Martin, Product Manager at Acme") {
		t.Fatalf("fallback text has no signature: %q", got)
	}
	long := &bot.Profile{Name: strings.Repeat("N", 79)}
	if u := bot.Username(long.Name, "Acme"); len([]rune(u)) > 80 {
		t.Fatalf("username too long: %d", len([]rune(u)))
	}
}
