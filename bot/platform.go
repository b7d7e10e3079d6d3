package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Platform is the port to one connection: a bot login on one Slack
// workspace or Discord guild. Adapters in handlers/ implement it.
type Platform interface {
	// Kind is KindSlack or KindDiscord.
	Kind() string
	// Capabilities says how a public post can be attributed.
	Capabilities() Capabilities
	// Send performs op. Errors should be classified with Permanent,
	// RetryAfter or NotApplied; any other error means the outcome is unknown.
	Send(ctx context.Context, op *Op) (Result, error)
	// Find looks for the effect of an op whose outcome is unknown (sent,
	// then the answer was lost). It reports found=false only when the
	// platform shows op did not happen.
	Find(ctx context.Context, op *Op) (res Result, found bool, err error)
}

// Capabilities of a connection.
type Capabilities struct {
	// CustomIdentity: a post can carry a person's name and avatar (Slack
	// chat:write.customize, Discord webhooks). Otherwise a signature line
	// is added to the text.
	CustomIdentity bool
	// MaxNote is the longest note text the platform takes in one message
	// (Discord's 2,000 characters); follow-ups merged into one post stay
	// within it. 0: 2,000.
	MaxNote int
}

// OpKind names a platform operation.
type OpKind string

const (
	OpPostCard        OpKind = "post_card"         // new item card in the internal channel
	OpUpdateCard      OpKind = "update_card"       // refresh the card in place
	OpPostNote        OpKind = "post_note"         // text in the internal thread (or admin channel)
	OpUpdateNote      OpKind = "update_note"       // a mirrored follow-up was edited or deleted
	OpPostDraftCard   OpKind = "post_draft_card"   // draft card with its preview and actions
	OpUpdateDraftCard OpKind = "update_draft_card" // refresh the draft card
	OpPublish         OpKind = "publish"           // the approved public reply
	OpEditPublic      OpKind = "edit_public"       // a correction of a public reply
	OpDeletePublic    OpKind = "delete_public"     // a retraction
	OpNotify          OpKind = "notify"            // a private message to one user
	OpPostDigest      OpKind = "post_digest"       // a digest's figures and chart
	OpPublishHome     OpKind = "publish_home"      // one person's Home, rendered whole (Slack's App Home)
)

// Creates reports whether op makes a new platform message, so that a retry
// with an unknown outcome must be reconciled first.
func (k OpKind) Creates() bool {
	switch k {
	case OpPostCard, OpPostNote, OpPostDraftCard, OpPublish, OpPostDigest:
		return true
	}
	return false
}

// Priorities of jobs waiting for the same limit, most urgent first: what
// the public is waiting for, then what staff have not seen yet, then the
// rest of the discussion, then refreshes of what staff already see.
const (
	PriorityPublic  = 0 // an approved reply, its correction or retraction
	PriorityNew     = 1 // a new card, draft card, notice or digest
	PriorityThread  = 2 // a note in a card's thread (follow-ups)
	PriorityRefresh = 3 // a card, draft card or note updated in place
)

// Priority ranks k among the jobs waiting for one limit.
func (k OpKind) Priority() int {
	switch k {
	case OpPublish, OpEditPublic, OpDeletePublic:
		return PriorityPublic
	case OpPostCard, OpPostDraftCard, OpNotify, OpPostDigest, OpPublishHome:
		// A Home is what a person who opened it waits for; its refreshes
		// are coalesced (one pending per person) and paced in a bucket of
		// their own, so they never hold back a channel's posts.
		return PriorityNew
	case OpPostNote:
		return PriorityThread
	}
	return PriorityRefresh
}

// OpKinds lists every kind of operation.
var OpKinds = []OpKind{OpPostCard, OpUpdateCard, OpPostNote, OpUpdateNote, OpPostDraftCard, OpUpdateDraftCard,
	OpPublish, OpEditPublic, OpDeletePublic, OpNotify, OpPostDigest, OpPublishHome}

// Op is one platform operation, fully rendered.
type Op struct {
	Kind      OpKind
	Key       string // per job ("liaison-job-42"), per draft for a publication ("liaison-draft-7"): adapters attach it so Find can match
	Conn      string
	Channel   string
	ThreadID  string // thread to post in (Slack thread_ts, Discord thread channel id)
	MessageID string // message to update or delete
	ReplyTo   string // public message being answered
	UserID    string // OpNotify: who is told; OpPublishHome: whose Home it is
	After     time.Time

	Card      *Card
	DraftCard *DraftCard
	Note      *Note
	Post      *PublicPost
	Digest    *DigestPost
	Home      *HomeView
}

// Result is what the platform returned.
type Result struct {
	MessageID string `json:"message_id,omitempty"`
	ThreadID  string `json:"thread_id,omitempty"`
	Link      string `json:"link,omitempty"`
	// Fallback: the post went out with a signature line, not under the
	// signer's name and avatar, for the reason FallbackCause says (in
	// FallbackWhere, a channel's name, when the cause is a channel's).
	Fallback      bool          `json:"fallback,omitempty"`
	FallbackCause FallbackCause `json:"fallback_cause,omitempty"`
	FallbackWhere string        `json:"fallback_where,omitempty"`
}

// FallbackCause is why a public post could not carry a person's identity.
type FallbackCause string

const (
	// FallbackNoCustomize: the Slack app lacks chat:write.customize.
	FallbackNoCustomize FallbackCause = "slack_no_customize"
	// FallbackNoManageWebhooks: the Discord bot lacks Manage Webhooks.
	FallbackNoManageWebhooks FallbackCause = "discord_no_manage_webhooks"
	// FallbackNoWebhookAccess: the Discord bot cannot see the channel's webhooks.
	FallbackNoWebhookAccess FallbackCause = "discord_no_webhook_access"
)

// Fact is one labelled value on a card: adapters show it as a Block Kit
// section field or an embed field.
type Fact struct {
	Label  string
	Value  string // plain text, already safe
	Links  []Link // shown after Value, one a line
	Inline bool   // short enough to sit beside others
}

// Link is a labelled URL.
type Link struct {
	Text string
	URL  string
}

// Card is the internal view of an item, rendered by adapters into Block Kit
// or an embed with buttons. Its texts are already sanitised and worded; the
// adapter escapes them for its markup and lays them out.
type Card struct {
	ItemID      int64
	Status      ItemStatus
	Source      string // "community-discord #help"
	Platform    string // of the public side
	AuthorName  string // "Carol (@carol)"
	AuthorID    string
	Text        string
	Truncated   bool
	Link        string
	Attachments []Attachment
	Route       string
	Tags        []string
	Assignee    string
	Edited      bool
	Deleted     bool
	History     []HistoryEntry // earlier items from the same member
	AnsweredBy  string
	ApprovedBy  string
	PublicLink  string
	CreatedAt   time.Time

	// How it reads.
	Title      string // "#12 · community #help", unique per item
	Summary    string // one line, for notifications
	LinkLabel  string // the link to the original message
	Facts      []Fact
	Notes      []string // small print: edited, deleted, truncated
	Footer     string
	ThreadName string // the internal discussion thread, where it has a name
	Rename     bool   // ThreadName changed since the card was posted: the member's words or name were erased
	Actions    []Button
}

// HistoryEntry is one earlier item from the same member.
type HistoryEntry struct {
	ItemID  int64
	Status  ItemStatus
	At      time.Time
	Snippet string
}

// DraftCard is the internal view of a draft.
type DraftCard struct {
	DraftID    int64
	ItemID     int64
	Kind       DraftKind
	State      DraftState
	AuthorName string
	Version    int
	Preview    PublicPost
	MemberName string // the member answered, for the preview
	// CustomIdentity: the public side shows Preview.Username and AvatarURL;
	// otherwise the post carries Preview.Signature.
	CustomIdentity bool
	// Consent: false while the author has no consented profile.
	Consent       bool
	NeedsApproval bool
	ApproverName  string
	// WriterName: who wrote the current words, when not the signer.
	WriterName string
	// Changes is the difference between the signer's words (or the
	// published reply a correction changes) and the current ones, one
	// change a line; "" when there is none to show.
	Changes      string
	ChangesLabel string
	Reason       string
	PublicLink   string

	// How it reads.
	Title   string // unique per draft
	Summary string
	// PreviewText is the post's text as it will show, the member's mention
	// written as their name (a live mention here could ping someone).
	PreviewText string
	// PreviewNote says how the post will be signed when the public side
	// cannot show the signer's name and avatar; "" when it can.
	PreviewNote string
	Facts       []Fact
	Notes       []string
	Actions     []Button
}

// Note is a line of text for the internal thread. Text is already safe.
type Note struct {
	Text string `json:"text"`
}

// PublicPost is an attributed public reply exactly as it will appear.
type PublicPost struct {
	Username      string // "Alice Martin · Acme", for platforms with custom identity
	AvatarURL     string
	Body          string // Mention + " " + Reply: the text as posted
	Mention       string // platform syntax pinging the member answered ("<@U123>"), or ""
	Reply         string // the sanitised reply alone; adapters escape it for their markup
	Signature     string // "— Alice Martin, Product Manager at Acme"
	Byline        string // "Alice Martin, Product Manager at Acme": who wrote it, beside a custom identity
	MentionUserID string // the only user the post may ping
	OriginalLink  string
}

// Text is the post's text for a platform with or without custom identity.
func (p PublicPost) Text(customIdentity bool) string {
	if customIdentity {
		return p.Body
	}
	return p.Body + "\n" + p.Signature
}

// SendError classifies a failed Send.
type SendError struct {
	Kind  SendErrorKind
	After time.Duration // RetryAfterKind: what the platform asked for
	// Global: the limit is the whole connection's, not one channel's.
	Global bool
	Err    error
}

// SendErrorKind says what the worker may assume about a failed call.
type SendErrorKind int

const (
	// UnknownOutcome: the call may have taken effect.
	UnknownOutcome SendErrorKind = iota
	// NotAppliedKind: the call certainly did not take effect; retry later.
	NotAppliedKind
	// RetryAfterKind: rate limited; nothing happened; retry after After.
	RetryAfterKind
	// PermanentKind: retrying will not help (channel gone, missing permission).
	PermanentKind
)

func (e *SendError) Error() string {
	switch e.Kind {
	case RetryAfterKind:
		return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
	case PermanentKind:
		return fmt.Sprintf("permanent: %v", e.Err)
	case NotAppliedKind:
		return fmt.Sprintf("not applied: %v", e.Err)
	}
	return fmt.Sprintf("outcome unknown: %v", e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &SendError{Kind: PermanentKind, Err: err} }

// RetryAfter marks err as a rate limit the platform asks to wait out.
func RetryAfter(d time.Duration, err error) error {
	return &SendError{Kind: RetryAfterKind, After: d, Err: err}
}

// RetryAfterGlobal marks err as a rate limit on the whole connection.
func RetryAfterGlobal(d time.Duration, err error) error {
	return &SendError{Kind: RetryAfterKind, After: d, Global: true, Err: err}
}

// NotApplied marks err as a failure that certainly changed nothing.
func NotApplied(err error) error { return &SendError{Kind: NotAppliedKind, Err: err} }

func classify(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Kind: UnknownOutcome, Err: err}
}
