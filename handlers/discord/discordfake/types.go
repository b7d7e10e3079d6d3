package discordfake

import (
	"encoding/json"
	"slices"
	"time"
)

// ChannelType is Discord's channel type number.
type ChannelType int

// Channel types the fake knows about.
const (
	ChannelText               ChannelType = 0
	ChannelDM                 ChannelType = 1
	ChannelCategory           ChannelType = 4
	ChannelAnnouncement       ChannelType = 5
	ChannelAnnouncementThread ChannelType = 10
	ChannelPublicThread       ChannelType = 11
	ChannelPrivateThread      ChannelType = 12
	ChannelForum              ChannelType = 15
)

// IsThread reports whether channels of this type are threads.
func (t ChannelType) IsThread() bool {
	return t == ChannelAnnouncementThread || t == ChannelPublicThread || t == ChannelPrivateThread
}

// textual reports whether messages can be posted directly in channels of this type.
func (t ChannelType) textual() bool {
	return t == ChannelText || t == ChannelDM || t == ChannelAnnouncement || t.IsThread()
}

// Permission bits the fake checks (https://discord.com/developers/docs/topics/permissions).
const (
	PermViewChannel          int64 = 1 << 10
	PermSendMessages         int64 = 1 << 11
	PermManageMessages       int64 = 1 << 13
	PermEmbedLinks           int64 = 1 << 14
	PermAttachFiles          int64 = 1 << 15
	PermReadMessageHistory   int64 = 1 << 16
	PermMentionEveryone      int64 = 1 << 17
	PermManageWebhooks       int64 = 1 << 29
	PermCreatePublicThreads  int64 = 1 << 35
	PermCreatePrivateThreads int64 = 1 << 36
	PermSendMessagesInThread int64 = 1 << 38
	// PermAll is every permission bit Discord defines today; it is the bot's default.
	PermAll int64 = 1<<51 - 1
)

// Gateway intents the fake honours (https://discord.com/developers/docs/events/gateway#gateway-intents).
const (
	IntentGuilds         int64 = 1 << 0
	IntentGuildMembers   int64 = 1 << 1
	IntentGuildWebhooks  int64 = 1 << 5
	IntentGuildPresences int64 = 1 << 8
	IntentGuildMessages  int64 = 1 << 9
	IntentDirectMessages int64 = 1 << 12
	IntentMessageContent int64 = 1 << 15

	privilegedIntents = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
	knownIntentBits   = int64(1)<<26 - 1
)

// Message flags (https://discord.com/developers/docs/resources/message#message-object-message-flags).
const (
	FlagSuppressEmbeds        = 1 << 2
	FlagHasThread             = 1 << 5
	FlagEphemeral             = 1 << 6
	FlagLoading               = 1 << 7
	FlagSuppressNotifications = 1 << 12
	FlagIsComponentsV2        = 1 << 15
)

// Message types used by the fake.
const (
	MessageDefault          = 0
	MessageReply            = 19
	MessageChatInputCommand = 20
)

// User is a Discord user as the fake knows it.
type User struct {
	ID         string
	Username   string
	GlobalName string
	Avatar     string // avatar hash; "" for the default avatar
	Bot        bool
}

// Role is a guild role. The @everyone role (ID = guild ID) is added when missing, with
// DefaultEveryonePermissions; the bot gets a managed role of its own (see BotRoleID).
type Role struct {
	ID          string
	Name        string
	Mentionable bool
	// Permissions is the role's guild-level permission bitset.
	Permissions int64
	// Managed: the role belongs to an integration (the bot's own role).
	Managed bool
}

// Member is a guild member.
type Member struct {
	User     User
	Nick     string
	Roles    []string
	JoinedAt time.Time // zero: the fake picks a date in the past
}

// Channel is a guild channel, a thread or a DM channel.
type Channel struct {
	ID       string
	GuildID  string // filled in by the fake
	Name     string
	Type     ChannelType
	ParentID string // category of a channel; parent channel of a thread
	OwnerID  string // threads: who started it
	Topic    string
	// Overwrites are the channel's permission overwrites (none on threads, which take their
	// parent's).
	Overwrites []Overwrite
}

// Guild is a guild with its channels, roles and members. The bot is a member of every guild.
type Guild struct {
	ID       string
	Name     string
	OwnerID  string
	Channels []Channel
	Roles    []Role
	Members  []Member
}

// Attachment is the metadata of an attached file.
type Attachment struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type,omitempty"`
	Size        int    `json:"size"`
	URL         string `json:"url"`
	ProxyURL    string `json:"proxy_url"`
	Description string `json:"description,omitempty"` // alt text
	data        []byte // what was uploaded (see AttachmentData)
}

// Embed is a rich embed, limited to its common fields.
type Embed struct {
	Type        string       `json:"type,omitempty"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Timestamp   string       `json:"timestamp,omitempty"`
	Color       int          `json:"color,omitempty"`
	Footer      *EmbedFooter `json:"footer,omitempty"`
	Image       *EmbedMedia  `json:"image,omitempty"`
	Thumbnail   *EmbedMedia  `json:"thumbnail,omitempty"`
	Author      *EmbedAuthor `json:"author,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
}

// EmbedFooter is the footer of an embed.
type EmbedFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

// EmbedMedia is an embed image or thumbnail.
type EmbedMedia struct {
	URL string `json:"url"`
}

// EmbedAuthor is the author line of an embed.
type EmbedAuthor struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

// EmbedField is one field of an embed.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Component is a message or modal component (action row, button, select, text input, text
// display, container…), limited to the fields those carry.
type Component struct {
	Type        int             `json:"type"`
	ID          int             `json:"id,omitempty"`
	CustomID    string          `json:"custom_id,omitempty"`
	Style       int             `json:"style,omitempty"`
	Label       string          `json:"label,omitempty"`
	Emoji       *ComponentEmoji `json:"emoji,omitempty"`
	URL         string          `json:"url,omitempty"`
	SKUID       string          `json:"sku_id,omitempty"`
	Disabled    bool            `json:"disabled,omitempty"`
	Placeholder string          `json:"placeholder,omitempty"`
	MinValues   *int            `json:"min_values,omitempty"`
	MaxValues   *int            `json:"max_values,omitempty"`
	Options     []SelectOption  `json:"options,omitempty"`
	MinLength   *int            `json:"min_length,omitempty"`
	MaxLength   *int            `json:"max_length,omitempty"`
	Required    *bool           `json:"required,omitempty"`
	Value       string          `json:"value,omitempty"`
	Content     string          `json:"content,omitempty"`
	Components  []Component     `json:"components,omitempty"`
}

// ComponentEmoji is the emoji of a button or select option.
type ComponentEmoji struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// SelectOption is one option of a string select.
type SelectOption struct {
	Label       string          `json:"label"`
	Value       string          `json:"value"`
	Description string          `json:"description,omitempty"`
	Emoji       *ComponentEmoji `json:"emoji,omitempty"`
	Default     bool            `json:"default,omitempty"`
}

// Component types.
const (
	ComponentActionRow   = 1
	ComponentButton      = 2
	ComponentStringSel   = 3
	ComponentTextInput   = 4
	ComponentUserSel     = 5
	ComponentRoleSel     = 6
	ComponentMention     = 7
	ComponentChannelSel  = 8
	ComponentSection     = 9
	ComponentTextDisplay = 10
	ComponentThumbnail   = 11
	ComponentGallery     = 12
	ComponentFile        = 13
	ComponentSeparator   = 14
	ComponentContainer   = 17
)

// MessageReference points at the message a reply answers.
type MessageReference struct {
	MessageID string
	ChannelID string
	GuildID   string
}

// AllowedMentions is Discord's allowed_mentions object as the bot sent it.
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Users       []string `json:"users,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	RepliedUser bool     `json:"replied_user,omitempty"`
}

// Message is a message as the members of its channel see it.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string // "" in DMs
	Type      int
	Author    User // for webhook posts: ID = webhook ID, Username = override or webhook name, Bot = true
	WebhookID string
	// ApplicationID is set on interaction responses and on posts of webhooks the app owns.
	ApplicationID string
	AvatarURL     string // avatar_url override of a webhook post
	Content       string
	Embeds        []Embed
	Components    []Component
	Attachments   []Attachment
	// MessageReference is set on replies (type 19).
	MessageReference *MessageReference
	// AllowedMentions is what the last create or content edit sent; nil when it sent none.
	AllowedMentions *AllowedMentions
	// MentionEveryone, Mentions (user IDs) and MentionRoles are what Discord computed: the
	// mentions the message really makes.
	MentionEveryone bool
	Mentions        []string
	MentionRoles    []string
	Flags           int
	Nonce           string
	Timestamp       time.Time
	Edited          bool
	EditedAt        time.Time
	Deleted         bool
	// InteractionID is set on interaction responses and follow-ups.
	InteractionID string
	// VisibleTo is the only user who sees an ephemeral message.
	VisibleTo string
	// ThreadID is the thread started from this message (same ID as the message).
	ThreadID string
}

// Ephemeral reports whether only VisibleTo sees the message.
func (m Message) Ephemeral() bool { return m.Flags&FlagEphemeral != 0 }

func (m Message) clone() Message {
	m.Embeds = slices.Clone(m.Embeds)
	m.Components = cloneComponents(m.Components)
	m.Attachments = slices.Clone(m.Attachments)
	m.Mentions = slices.Clone(m.Mentions)
	m.MentionRoles = slices.Clone(m.MentionRoles)
	if m.MessageReference != nil {
		r := *m.MessageReference
		m.MessageReference = &r
	}
	if m.AllowedMentions != nil {
		a := *m.AllowedMentions
		a.Parse = slices.Clone(a.Parse)
		a.Users = slices.Clone(a.Users)
		a.Roles = slices.Clone(a.Roles)
		m.AllowedMentions = &a
	}
	return m
}

func cloneComponents(cs []Component) []Component {
	if cs == nil {
		return nil
	}
	out := make([]Component, len(cs))
	for i, c := range cs {
		c.Options = slices.Clone(c.Options)
		c.Components = cloneComponents(c.Components)
		out[i] = c
	}
	return out
}

// Webhook is a channel webhook created through the API.
type Webhook struct {
	ID            string
	Token         string
	ChannelID     string
	GuildID       string
	Name          string
	Avatar        string
	ApplicationID string // the app that created it: such webhooks may send buttons
	CreatedBy     string // user ID
}

// Command is an application command registered by the bot.
type Command struct {
	ID            string
	ApplicationID string
	GuildID       string // "" for a global command
	Type          int
	Name          string
	Description   string
	Options       []CommandOptionDef
	Version       string
}

// CommandOptionDef is an option of a registered command.
type CommandOptionDef struct {
	Type        int                `json:"type"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Required    bool               `json:"required,omitempty"`
	Options     []CommandOptionDef `json:"options,omitempty"`
}

// CommandOption is an option a member fills in when running a command. Type may be left 0: it is
// then taken from the registered command. A subcommand (type 1) carries nested Options.
type CommandOption struct {
	Name    string
	Type    int
	Value   any
	Options []CommandOption
}

// InteractionResponse is one accepted callback of the bot to an interaction.
type InteractionResponse struct {
	Type       int
	Content    string
	Flags      int
	Embeds     []Embed
	Components []Component
	CustomID   string // type 9 modal
	Title      string // type 9 modal
	At         time.Time
	Body       json.RawMessage // the callback body as sent
}

// Call is one REST request the fake received.
type Call struct {
	Method string
	Path   string // e.g. /api/v9/channels/1/messages
	Query  string
	Route  string // route key, e.g. "POST /channels/{channel.id}/messages"; "" when unknown
	Body   []byte
	Status int
	At     time.Time
	// Dropped: the fake sent no answer (Fault.Drop); Status is 0 unless the
	// request was carried out first (Fault.Applied).
	Dropped bool
}

// GatewayInfo describes the gateway side of the fake.
type GatewayInfo struct {
	Connected  bool   // a connection is identified or resumed
	Sessions   int    // connections identified or resumed now: several clients may share a token
	SessionID  string // of the connected session
	Intents    int64  // of the connected session
	Seq        int64  // last sequence number sent on the connected session
	Heartbeats int    // heartbeats received on the connected connection
	Identifies int    // successful Identify count
	Resumes    int    // successful Resume count
}
