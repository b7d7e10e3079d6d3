package bot

import (
	"strings"
	"unicode/utf8"
)

// maxUsername is Discord's limit for a webhook username; Slack's is larger.
const maxUsername = 80

// Attribute renders a public reply signed by p, exactly as it will appear:
// the mention of the member it answers, the sanitised body, the signer's
// name and avatar (platforms with custom identity) or a signature line.
func Attribute(p *Profile, company, body, memberID, originalLink string) PublicPost {
	reply := Sanitize(strings.TrimSpace(body))
	mention := Mention(memberID)
	text := reply
	if mention != "" {
		text = mention + " " + reply
	}
	return PublicPost{
		Username:      Username(p.Name, company),
		AvatarURL:     p.AvatarURL,
		Body:          text,
		Mention:       mention,
		Reply:         reply,
		Signature:     Signature(p, company),
		Byline:        Byline(p, company),
		MentionUserID: memberID,
		OriginalLink:  originalLink,
	}
}

// Username is the display name for a post under a person's identity:
// "Alice Martin · Acme", shortened to fit the platforms' limits.
func Username(name, company string) string {
	name = strings.TrimSpace(Sanitize(name))
	u := name
	if company != "" {
		u = name + " · " + company
	}
	if utf8.RuneCountInString(u) > maxUsername {
		u = name
	}
	if r := []rune(u); len(r) > maxUsername {
		u = string(r[:maxUsername])
	}
	return u
}

// Signature is the visible line that says who wrote a reply:
// "— Alice Martin (she/her), Product Manager at Acme".
func Signature(p *Profile, company string) string { return "— " + Byline(p, company) }

// Byline says who wrote a reply: "Alice Martin (she/her), Product Manager
// at Acme".
func Byline(p *Profile, company string) string {
	var b strings.Builder
	b.WriteString(Sanitize(p.Name))
	if p.Pronouns != "" {
		b.WriteString(" (" + Sanitize(p.Pronouns) + ")")
	}
	switch {
	case p.Title != "" && company != "":
		b.WriteString(", " + Sanitize(p.Title) + " at " + company)
	case p.Title != "":
		b.WriteString(", " + Sanitize(p.Title))
	case company != "":
		b.WriteString(", " + company)
	}
	return b.String()
}
