package bot

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Form is what a person fills in: adapters render it as a Slack modal or a
// Discord modal and send back its values, by field id, in a Submit request
// for Action and Target.
type Form struct {
	Action ActionID
	Target int64
	Title  string
	Submit string // the submit button's label, where the platform has one
	Intro  string // a line above the fields, where the platform can show one
	Fields []Field
}

// FieldKind is what a field takes.
type FieldKind int

const (
	FieldText   FieldKind = iota
	FieldCheck            // a yes/no agreement
	FieldChoice           // one of Options, picked from a list
)

// Field is one input of a form. Its limits are the domain's; adapters pass
// them on to the platform, which enforces them as the person types.
type Field struct {
	ID          string
	Kind        FieldKind
	Label       string
	Hint        string // what it is for, shown with it
	Placeholder string // an example, shown while it is empty
	Initial     string
	Required    bool
	MaxLen      int
	Multiline   bool

	// A check field: the statement agreed to, whether it starts ticked,
	// and, for platforms without a check box, the word to type and the
	// label and placeholder that say so.
	Option      string
	Checked     bool
	Keyword     string
	TypedLabel  string
	TypedHint   string
	TypedPrompt string

	// A choice field: what may be picked, in order; Initial, when set, is
	// the value picked at first.
	Options []Option
}

// Option is one value a choice field offers.
type Option struct {
	Value string // what comes back in Request.Values
	Label string // what the person sees
}

// Form field ids, as they come back in Request.Values.
const (
	FieldTextID     = "text"
	FieldTagsID     = "tags"
	FieldReasonID   = "reason"
	FieldNameID     = "name"
	FieldTitleID    = "title"
	FieldAvatarID   = "avatar"
	FieldPronounsID = "pronouns"
	FieldConsentID  = "consent"
	FieldRouteID    = "route"
)

// Limits of what people write, in characters.
const (
	// maxDraftChars bounds a public reply: Discord's 2,000-character
	// message, minus room for the mention and the signature line.
	maxDraftChars   = 1800
	maxTagsChars    = 200
	maxTagChars     = 40
	maxReasonChars  = 1000
	maxNameChars    = 60
	maxTitleChars   = 80
	maxAvatarChars  = 500
	maxPronounChars = 30
)

// consentWord is what a person types to agree where the platform has no
// check box.
const consentWord = "yes"

func replyText(id, label, hint, initial string) Field {
	return Field{ID: id, Label: label, Hint: hint, Initial: clipRunes(initial, maxDraftChars), Required: true, MaxLen: maxDraftChars, Multiline: true}
}

// value returns a submitted text value, trimmed.
func (r Request) value(id string) string { return strings.TrimSpace(r.Values[id]) }

// checked reports whether a check field was ticked (or its keyword typed).
func (r Request) checked(id string) bool {
	return strings.EqualFold(strings.TrimSpace(r.Values[id]), consentWord)
}

// checkLen refuses a value longer than max, on its field.
func checkLen(field, what, value string, max int) error {
	if n := utf8.RuneCountInString(value); n > max {
		return fieldErrorf(field, "%s is %d characters long; the limit is %d.", what, n, max)
	}
	return nil
}

// draftText checks the text of a reply, correction or edit.
func draftText(text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", ErrEmptyText
	}
	if err := checkLen(FieldTextID, "The reply", text, maxDraftChars); err != nil {
		return "", err
	}
	return text, nil
}

// parseTags reads comma-separated tags: lower case, sanitised, each 1 to
// 40 characters, at least one.
func parseTags(s string) ([]string, error) {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		t = strings.ToLower(strings.TrimSpace(Sanitize(t)))
		if t == "" {
			continue
		}
		if utf8.RuneCountInString(t) > maxTagChars {
			return nil, fieldErrorf(FieldTagsID, "A tag must be 1 to %d characters.", maxTagChars)
		}
		tags = append(tags, t)
	}
	if len(tags) == 0 {
		return nil, fieldErrorf(FieldTagsID, "Please give at least one tag.")
	}
	return tags, nil
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func itemFormTitle(what string, id int64) string  { return fmt.Sprintf("%s item #%d", what, id) }
func draftFormTitle(what string, id int64) string { return fmt.Sprintf("%s #%d", what, id) }
