package demo

import "testing"

func TestSlackHTML(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"hi <@U0ALICE>, see <https://a.example/x?a=1&amp;b=2|the doc>", `hi <span class="mention">@Alice Martin</span>, see <a href="https://a.example/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">the doc</a>`},
		{"*bold* _it_ ~no~ `a*b*c &lt;@U0BOB&gt;` ```<@U0BOB>```", "<b>bold</b> <i>it</i> <s>no</s> <code>a*b*c &lt;@U0BOB&gt;</code> <pre>&lt;@U0BOB&gt;</pre>"},
		{"&lt;script&gt;alert(1)&lt;/script&gt; <!here> <!subteam^S0MANAGERS>", `&lt;script&gt;alert(1)&lt;/script&gt; <span class="mention">@here</span> <span class="mention">@managers</span>`},
		{"<javascript:alert(1)|x>", "&lt;javascript:alert(1)|x&gt;"},
		{"link: https://discord.com/channels/1/2/3.", `link: <a href="https://discord.com/channels/1/2/3" target="_blank" rel="noopener noreferrer">https://discord.com/channels/1/2/3</a>.`},
		{"&gt; quoted\nnext", "<blockquote>quoted</blockquote>next"},
	} {
		if got := slackHTML(c.in); got != c.want {
			t.Errorf("slackHTML(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestDiscordHTML(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"<@1200000000000000101> **thanks** @everyone", `<span class="mention">@Mia</span> <b>thanks</b> <span class="mention">@everyone</span>`},
		{"<img src=x onerror=alert(1)> *it* __u__ ~~s~~", "&lt;img src=x onerror=alert(1)&gt; <i>it</i> <u>u</u> <s>s</s>"},
		{"see https://a.example/a_b_c_.", `see <a href="https://a.example/a_b_c_" target="_blank" rel="noopener noreferrer">https://a.example/a_b_c_</a>.`},
		{"[docs](https://a.example/d) `<@1>`", `<a href="https://a.example/d" target="_blank" rel="noopener noreferrer">docs</a> <code>&lt;@1&gt;</code>`},
	} {
		if got := discordHTML(c.in); got != c.want {
			t.Errorf("discordHTML(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestSlackTyped(t *testing.T) {
	for in, want := range map[string]string{
		"promote @alice":        "promote <@U0ALICE|alice>",
		"a < b & @here @nobody": "a &lt; b &amp; <!here> @nobody",
		"ask @managers":         "ask <!subteam^S0MANAGERS|@managers>",
	} {
		if got := slackTyped(in); got != want {
			t.Errorf("slackTyped(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainText(t *testing.T) {
	if got := plainText(slackHTML("*Draft* by <@U0BOB>\n&lt;ok&gt;")); got != "Draft by @Bob Stone <ok>" {
		t.Errorf("plainText = %q", got)
	}
}
