package discordfake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// msgPayload is the union of the message fields the bot sends: channel message create/edit,
// webhook execute/edit, interaction response data.
type msgPayload struct {
	Content          *string           `json:"content"`
	Embeds           []Embed           `json:"embeds"`
	Components       []Component       `json:"components"`
	AllowedMentions  *AllowedMentions  `json:"allowed_mentions"`
	MessageReference *refPayload       `json:"message_reference"`
	Nonce            json.RawMessage   `json:"nonce"`
	EnforceNonce     bool              `json:"enforce_nonce"`
	Flags            int               `json:"flags"`
	StickerIDs       []string          `json:"sticker_ids"`
	Attachments      []json.RawMessage `json:"attachments"`
	Poll             json.RawMessage   `json:"poll"`
	Username         string            `json:"username"`
	AvatarURL        string            `json:"avatar_url"`
	ThreadName       string            `json:"thread_name"`
	CustomID         string            `json:"custom_id"` // modal
	Title            string            `json:"title"`     // modal
}

type refPayload struct {
	Type            int    `json:"type"`
	MessageID       string `json:"message_id"`
	ChannelID       string `json:"channel_id"`
	GuildID         string `json:"guild_id"`
	FailIfNotExists *bool  `json:"fail_if_not_exists"`
}

func (p *msgPayload) content() string {
	if p.Content == nil {
		return ""
	}
	return *p.Content
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// nonce returns the nonce as a string (Discord accepts a string or an integer).
func (p *msgPayload) nonce() (string, *apiError) {
	if !present(p.Nonce) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(p.Nonce, &s); err == nil {
		if utf8.RuneCountInString(s) > 25 {
			return "", formError("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(p.Nonce, &n); err == nil {
		if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return string(n), nil
		}
	}
	return "", formError("nonce", "NONCE_TYPE_INVALID", "Nonce must be an integer or a string.")
}

// empty reports whether a message with these fields would be empty, which Discord refuses
// with 50006.
func emptyMessage(content string, embeds []Embed, comps []Component, files int, stickers []string, poll json.RawMessage) bool {
	return strings.TrimSpace(content) == "" && len(embeds) == 0 && len(comps) == 0 && files == 0 && len(stickers) == 0 && !present(poll)
}

// validateMessage checks the limits Discord enforces on a message body and returns 50035 with
// Discord's nested errors when one is broken
// (https://discord.com/developers/docs/resources/message#create-message-jsonform-params).
func validateMessage(p *msgPayload) *apiError {
	var fe formErrors
	if n := utf8.RuneCountInString(p.content()); n > 2000 {
		fe.add("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
	}
	validateEmbeds(&fe, p.Embeds)
	validateComponents(&fe, p.Components, p.Flags&FlagIsComponentsV2 != 0)
	validateAllowedMentions(&fe, p.AllowedMentions)
	return fe.err()
}

// validateEmbeds checks Discord's embed limits
// (https://discord.com/developers/docs/resources/message#embed-object-embed-limits) and that
// every URL in an embed is one Discord takes: http(s), or attachment:// for media
// (https://discord.com/developers/docs/resources/message#embed-object-embed-structure; Discord
// answers "Scheme \"x\" is not supported. Scheme must be one of ('http', 'https').").
func validateEmbeds(fe *formErrors, embeds []Embed) {
	if len(embeds) > 10 {
		fe.add("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
		return
	}
	total := 0
	maxLen := func(path, s string, n int) {
		l := utf8.RuneCountInString(s)
		total += l
		if l > n {
			fe.add(path, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n))
		}
	}
	for i, e := range embeds {
		base := "embeds." + strconv.Itoa(i)
		maxLen(base+".title", e.Title, 256)
		maxLen(base+".description", e.Description, 4096)
		checkURL(fe, base+".url", e.URL, "http", "https")
		if e.Footer != nil {
			maxLen(base+".footer.text", e.Footer.Text, 2048)
			checkURL(fe, base+".footer.icon_url", e.Footer.IconURL, "http", "https", "attachment")
		}
		if e.Author != nil {
			if e.Author.Name == "" {
				fe.add(base+".author.name", "BASE_TYPE_REQUIRED", "This field is required")
			}
			maxLen(base+".author.name", e.Author.Name, 256)
			checkURL(fe, base+".author.url", e.Author.URL, "http", "https")
			checkURL(fe, base+".author.icon_url", e.Author.IconURL, "http", "https", "attachment")
		}
		if e.Image != nil {
			checkURL(fe, base+".image.url", e.Image.URL, "http", "https", "attachment")
		}
		if e.Thumbnail != nil {
			checkURL(fe, base+".thumbnail.url", e.Thumbnail.URL, "http", "https", "attachment")
		}
		if len(e.Fields) > 25 {
			fe.add(base+".fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		for j, fl := range e.Fields {
			fp := base + ".fields." + strconv.Itoa(j)
			if fl.Name == "" {
				fe.add(fp+".name", "BASE_TYPE_REQUIRED", "This field is required")
			}
			if fl.Value == "" {
				fe.add(fp+".value", "BASE_TYPE_REQUIRED", "This field is required")
			}
			maxLen(fp+".name", fl.Name, 256)
			maxLen(fp+".value", fl.Value, 1024)
		}
	}
	if total > 6000 {
		fe.add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	}
}

// checkURL refuses a URL that is not absolute or whose scheme is not one of schemes; an empty
// one is left to the callers that require it.
func checkURL(fe *formErrors, path, raw string, schemes ...string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Scheme != "attachment") {
		fe.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
		return
	}
	if !slices.Contains(schemes, strings.ToLower(u.Scheme)) {
		quoted := make([]string, len(schemes))
		for i, s := range schemes {
			quoted[i] = "'" + s + "'"
		}
		fe.add(path, "URL_TYPE_INVALID_SCHEME", fmt.Sprintf("Scheme %q is not supported. Scheme must be one of (%s).", u.Scheme, strings.Join(quoted, ", ")))
	}
}

func lengthBetween(fe *formErrors, path, s string, lo, hi int) {
	if n := utf8.RuneCountInString(s); n < lo || n > hi {
		fe.add(path, "BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between %d and %d in length.", lo, hi))
	}
}

// validateComponents checks message components: at most 5 action rows of at most 5 buttons
// (https://discord.com/developers/docs/components/reference#action-row), custom_ids of 1–100
// characters, unique in the message
// (https://discord.com/developers/docs/components/reference#anatomy-of-a-component-custom-id),
// button labels of at most 80 characters and link buttons with an http(s) or discord:// URL
// (https://discord.com/developers/docs/components/reference#button-button-structure).
func validateComponents(fe *formErrors, comps []Component, v2 bool) {
	if !v2 && len(comps) > 5 {
		fe.add("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
	}
	seen := map[string]bool{}
	var walk func(path string, c Component, inRow bool)
	walk = func(path string, c Component, inRow bool) {
		checkID := func() {
			lengthBetween(fe, path+".custom_id", c.CustomID, 1, 100)
			if c.CustomID != "" && seen[c.CustomID] {
				fe.add(path+".custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
			}
			seen[c.CustomID] = true
		}
		switch c.Type {
		case ComponentActionRow:
			if inRow {
				fe.add(path+".type", "COMPONENT_TYPE_INVALID", "Action rows cannot be nested")
				return
			}
			if len(c.Components) < 1 || len(c.Components) > 5 {
				fe.add(path+".components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
			}
			selects := 0
			for i, cc := range c.Components {
				if cc.Type != ComponentButton {
					selects++
				}
				walk(path+".components."+strconv.Itoa(i), cc, true)
			}
			if selects > 0 && len(c.Components) > 1 {
				fe.add(path+".components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width")
			}
		case ComponentButton:
			if c.Style < 1 || c.Style > 6 {
				fe.add(path+".style", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
			}
			if utf8.RuneCountInString(c.Label) > 80 {
				fe.add(path+".label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
			}
			switch c.Style {
			case 5:
				if c.URL == "" {
					fe.add(path+".url", "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
				}
				checkURL(fe, path+".url", c.URL, "http", "https", "discord")
				if c.Label == "" && c.Emoji == nil {
					fe.add(path+".label", "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required")
				}
				if c.CustomID != "" {
					fe.add(path+".custom_id", "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id cannot be specified")
				}
			case 6:
				if c.SKUID == "" {
					fe.add(path+".sku_id", "BASE_TYPE_REQUIRED", "This field is required")
				}
			default:
				if c.URL != "" {
					fe.add(path+".url", "BUTTON_COMPONENT_URL_NOT_ALLOWED", "A url cannot be specified")
				}
				checkID()
				if c.Label == "" && c.Emoji == nil {
					fe.add(path+".label", "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required")
				}
			}
		case ComponentStringSel, ComponentUserSel, ComponentRoleSel, ComponentMention, ComponentChannelSel:
			checkID()
			if c.Type == ComponentStringSel && (len(c.Options) < 1 || len(c.Options) > 25) {
				fe.add(path+".options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
			}
			if utf8.RuneCountInString(c.Placeholder) > 150 {
				fe.add(path+".placeholder", "BASE_TYPE_MAX_LENGTH", "Must be 150 or fewer in length.")
			}
			if c.MinValues != nil && (*c.MinValues < 0 || *c.MinValues > 25) {
				fe.add(path+".min_values", "NUMBER_TYPE_MAX", "int value should be between 0 and 25.")
			}
			if c.MaxValues != nil && (*c.MaxValues < 1 || *c.MaxValues > 25) {
				fe.add(path+".max_values", "NUMBER_TYPE_MAX", "int value should be between 1 and 25.")
			}
		case ComponentTextInput:
			fe.add(path+".type", "COMPONENT_TYPE_INVALID", "Text inputs are only allowed in modals")
		case ComponentSection, ComponentTextDisplay, ComponentThumbnail, ComponentGallery, ComponentFile, ComponentSeparator, ComponentContainer:
			if !v2 {
				fe.add(path+".type", "COMPONENT_TYPE_INVALID", "This component requires the IS_COMPONENTS_V2 flag")
				return
			}
			for i, cc := range c.Components {
				walk(path+".components."+strconv.Itoa(i), cc, false)
			}
		default:
			fe.add(path+".type", "BASE_TYPE_CHOICES", fmt.Sprintf("Value %d is not a valid component type.", c.Type))
		}
	}
	for i, c := range comps {
		path := "components." + strconv.Itoa(i)
		if !v2 && c.Type != ComponentActionRow {
			fe.add(path+".type", "UNION_TYPE_CHOICES", `Value of field "type" must be one of (1,).`)
			continue
		}
		walk(path, c, false)
	}
}

// validateModal checks a type 9 response: a custom_id of 1–100 characters, a title of 1–45, and
// 1–5 action rows of one text input each
// (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-modal);
// each text input with a label of 1–45 characters, a placeholder of at most 100, min_length
// 0–4000 and max_length 1–4000, min_length not above max_length, a value of at most 4000
// (https://discord.com/developers/docs/components/reference#text-input-text-input-structure).
func validateModal(p *msgPayload) *apiError {
	var fe formErrors
	lengthBetween(&fe, "data.custom_id", p.CustomID, 1, 100)
	lengthBetween(&fe, "data.title", p.Title, 1, 45)
	if len(p.Components) < 1 || len(p.Components) > 5 {
		fe.add("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
	}
	seen := map[string]bool{}
	for i, row := range p.Components {
		path := "data.components." + strconv.Itoa(i)
		if row.Type != ComponentActionRow || len(row.Components) != 1 || row.Components[0].Type != ComponentTextInput {
			fe.add(path, "MODAL_COMPONENT_INVALID", "Modal rows must hold exactly one text input")
			continue
		}
		ti := row.Components[0]
		tp := path + ".components.0"
		lengthBetween(&fe, tp+".custom_id", ti.CustomID, 1, 100)
		if seen[ti.CustomID] {
			fe.add(tp+".custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
		}
		seen[ti.CustomID] = true
		lengthBetween(&fe, tp+".label", ti.Label, 1, 45)
		if ti.Style != 1 && ti.Style != 2 {
			fe.add(tp+".style", "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
		}
		if ti.MinLength != nil && (*ti.MinLength < 0 || *ti.MinLength > 4000) {
			fe.add(tp+".min_length", "NUMBER_TYPE_MAX", "int value should be between 0 and 4000.")
		}
		if ti.MaxLength != nil && (*ti.MaxLength < 1 || *ti.MaxLength > 4000) {
			fe.add(tp+".max_length", "NUMBER_TYPE_MAX", "int value should be between 1 and 4000.")
		}
		if ti.MinLength != nil && ti.MaxLength != nil && *ti.MinLength > *ti.MaxLength {
			fe.add(tp+".min_length", "BASE_TYPE_BAD_LENGTH", "min_length must not be greater than max_length.")
		}
		if utf8.RuneCountInString(ti.Placeholder) > 100 {
			fe.add(tp+".placeholder", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
		}
		if utf8.RuneCountInString(ti.Value) > 4000 {
			fe.add(tp+".value", "BASE_TYPE_MAX_LENGTH", "Must be 4000 or fewer in length.")
		}
	}
	return fe.err()
}

func validateAllowedMentions(fe *formErrors, am *AllowedMentions) {
	if am == nil {
		return
	}
	for i, p := range am.Parse {
		if p != "users" && p != "roles" && p != "everyone" {
			fe.add("allowed_mentions.parse."+strconv.Itoa(i), "BASE_TYPE_CHOICES", `Value must be one of ("roles", "users", "everyone").`)
		}
	}
	if slices.Contains(am.Parse, "users") && len(am.Users) > 0 {
		fe.add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", `parse:["users"] and users: [ids...] are mutually exclusive.`)
	}
	if slices.Contains(am.Parse, "roles") && len(am.Roles) > 0 {
		fe.add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", `parse:["roles"] and roles: [ids...] are mutually exclusive.`)
	}
	if len(am.Users) > 100 {
		fe.add("allowed_mentions.users", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	if len(am.Roles) > 100 {
		fe.add("allowed_mentions.roles", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
}

// validateName checks a webhook name or username override: 1–80 characters, without "clyde"
// or "discord" in any case.
func validateName(field, name string) *apiError {
	var fe formErrors
	lengthBetween(&fe, field, name, 1, 80)
	low := strings.ToLower(name)
	for _, bad := range []string{"discord", "clyde"} {
		if strings.Contains(low, bad) {
			fe.add(field, "USERNAME_INVALID_CONTAINS", fmt.Sprintf("Username cannot contain %q", bad))
		}
	}
	return fe.err()
}

var (
	userMentionRe = regexp.MustCompile(`<@!?(\d{15,20})>`)
	roleMentionRe = regexp.MustCompile(`<@&(\d{15,20})>`)
)

// computeMentions sets the mentions Discord would compute for m from its content, the
// allowed_mentions sent (nil: parse everything) and whether the author may mention @everyone
// and every role. Callers hold f.mu.
func (f *Fake) computeMentions(m *message, am *AllowedMentions, canEveryone bool) {
	m.MentionEveryone, m.Mentions, m.MentionRoles = false, nil, nil
	allows := func(kind string, ids []string, id string) bool {
		return am == nil || slices.Contains(am.Parse, kind) || slices.Contains(ids, id)
	}
	var users, roles []string
	if am != nil {
		users, roles = am.Users, am.Roles
	}
	if m.GuildID != "" && canEveryone && (strings.Contains(m.Content, "@everyone") || strings.Contains(m.Content, "@here")) &&
		(am == nil || slices.Contains(am.Parse, "everyone")) {
		m.MentionEveryone = true
	}
	for _, sm := range userMentionRe.FindAllStringSubmatch(m.Content, -1) {
		id := sm[1]
		if f.users[id] == nil || slices.Contains(m.Mentions, id) || !allows("users", users, id) {
			continue
		}
		m.Mentions = append(m.Mentions, id)
	}
	if g := f.guilds[m.GuildID]; g != nil {
		for _, sm := range roleMentionRe.FindAllStringSubmatch(m.Content, -1) {
			id := sm[1]
			r := g.role(id)
			if r == nil || id == g.id || slices.Contains(m.MentionRoles, id) || !allows("roles", roles, id) {
				continue
			}
			if r.Mentionable || canEveryone {
				m.MentionRoles = append(m.MentionRoles, id)
			}
		}
	}
	if ref := m.MessageReference; ref != nil && (am == nil || am.RepliedUser) {
		if rm := f.messages[ref.MessageID]; rm != nil && !rm.Deleted && rm.WebhookID == "" && rm.Author.ID != m.Author.ID &&
			!slices.Contains(m.Mentions, rm.Author.ID) {
			m.Mentions = append(m.Mentions, rm.Author.ID)
		}
	}
}

// Pings reports who a message really pings, given its content and allowed_mentions, in
// Discord's mention syntax: "@everyone", "@here", "<@USER_ID>" and "<@&ROLE_ID>". An empty
// result means the message notifies nobody. Ephemeral messages and messages flagged
// SUPPRESS_NOTIFICATIONS ping nobody; their mention fields still say what they mention.
func (f *Fake) Pings(m Message) []string {
	if m.Ephemeral() || m.Flags&FlagSuppressNotifications != 0 || m.Deleted {
		return nil
	}
	var out []string
	if m.MentionEveryone {
		if strings.Contains(m.Content, "@everyone") {
			out = append(out, "@everyone")
		}
		if strings.Contains(m.Content, "@here") {
			out = append(out, "@here")
		}
	}
	for _, id := range m.Mentions {
		out = append(out, "<@"+id+">")
	}
	for _, id := range m.MentionRoles {
		out = append(out, "<@&"+id+">")
	}
	return out
}
