package discordfake

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

type guildState struct {
	id, name, ownerID string
	roles             []Role
	botRole           string // the bot's managed role
	members           map[string]*Member
	memberOrder       []string
	channelOrder      []string // channels and threads in creation order
	joinedAt          time.Time
}

func (g *guildState) hasRole(id string) bool {
	return g.role(id) != nil
}

func (g *guildState) role(id string) *Role {
	for i := range g.roles {
		if g.roles[i].ID == id {
			return &g.roles[i]
		}
	}
	return nil
}

type channelState struct {
	Channel
	createdAt     time.Time
	lastMessageID string
	messageCount  int // threads: messages sent, not counting the starter of a forum post
	totalSent     int
	autoArchive   int
	recipient     string // DM channels: the user
	archived      bool   // threads: archived (ArchiveThread); a new message unarchives
	archivedAt    time.Time
}

type message struct {
	Message
	position    int          // position in a thread
	interaction *interaction // interaction the message answers
	nonceSent   bool
}

type interaction struct {
	id, token     string
	typ           int // 2 command, 3 component, 5 modal submit
	channelID     string
	guildID       string
	userID        string
	messageID     string // the message of the clicked component
	customID      string
	componentType int
	commandName   string
	fromComponent bool // modal submit opened from a component interaction
	createdAt     time.Time
	acked         bool
	failed        bool   // not answered within InteractionDeadline: Discord showed the person a failure
	originalID    string // message @original refers to
	loading       bool   // answered with type 5 and not yet edited
	responses     []InteractionResponse
	followups     []string
}

type pendingModal struct {
	userID, channelID string
	customID, title   string
	components        []Component
	source            *interaction
}

type command struct {
	Command
	raw map[string]json.RawMessage
}

type nonceEntry struct {
	messageID string
	at        time.Time
}

// discordEpoch is the first millisecond of 2015, Discord's snowflake epoch.
const discordEpoch = 1420070400000

// newID returns a snowflake for the current time, unique and increasing even when the clock is
// frozen. Callers hold f.mu.
func (f *Fake) newID() string {
	ms := f.now().UnixMilli() - discordEpoch
	if ms < 0 {
		ms = 0
	}
	id := uint64(ms)<<22 | 1<<17 | 1<<12
	if id <= f.lastID {
		id = f.lastID + 1
	}
	f.lastID = id
	return strconv.FormatUint(id, 10)
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// compareSnowflakes orders snowflakes numerically, that is by age; non-numeric ones sort first.
func compareSnowflakes(a, b string) int {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return cmp.Compare(x, y)
}

func snowflakeLess(a, b string) bool { return compareSnowflakes(a, b) < 0 }

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("discordfake: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// member returns the member of a guild, or nil. Callers hold f.mu.
func (f *Fake) member(guildID, userID string) *Member {
	g := f.guilds[guildID]
	if g == nil {
		return nil
	}
	return g.members[userID]
}

// storeMessage adds a new message to its channel. Callers hold f.mu.
func (f *Fake) storeMessage(m *message) {
	f.messages[m.ID] = m
	f.channelMsgs[m.ChannelID] = append(f.channelMsgs[m.ChannelID], m.ID)
	if c := f.channels[m.ChannelID]; c != nil && !m.Ephemeral() {
		c.lastMessageID = m.ID
		if c.archived {
			// A message in an archived thread unarchives it, as on Discord.
			c.archived = false
			f.dispatchThreadUpdate(c)
		}
		if c.Type.IsThread() {
			m.position = c.totalSent
			c.totalSent++
			if m.ID != c.ID { // the starter of a forum post is not counted
				c.messageCount++
			}
		}
	}
}

// visibleMessages returns the channel's messages that members see (not deleted, not
// ephemeral), oldest first. Callers hold f.mu.
func (f *Fake) visibleMessages(channelID string) []*message {
	return f.channelMessages(channelID, func(m *message) bool { return !m.Deleted && !m.Ephemeral() })
}

// channelMessages returns the channel's messages that keep selects, oldest first. Callers hold
// f.mu.
func (f *Fake) channelMessages(channelID string, keep func(*message) bool) []*message {
	var out []*message
	for _, id := range f.channelMsgs[channelID] {
		if m := f.messages[id]; m != nil && keep(m) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *message) int { return compareSnowflakes(a.ID, b.ID) })
	return out
}

// appOwned reports whether the message was sent by the app: by the bot user, as an interaction
// response, or through a webhook the app created. Callers hold f.mu.
func (f *Fake) appOwned(m *message) bool {
	if m.Author.ID == f.bot.ID || m.ApplicationID == f.appID {
		return true
	}
	if m.WebhookID != "" {
		if w := f.webhooks[m.WebhookID]; w != nil && w.ApplicationID == f.appID {
			return true
		}
	}
	return false
}
