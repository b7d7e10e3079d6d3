package bot

import (
	"time"
)

// ItemStatus is where an external conversation stands.
type ItemStatus string

const (
	ItemNew              ItemStatus = "new"
	ItemClaimed          ItemStatus = "claimed"
	ItemDrafting         ItemStatus = "drafting"
	ItemAwaitingApproval ItemStatus = "awaiting_approval"
	ItemAnswered         ItemStatus = "answered"
	ItemClosed           ItemStatus = "closed"
	ItemIgnored          ItemStatus = "ignored"
)

// Item is one external conversation: an original public message and its
// follow-ups, mirrored to a card and a thread on the internal side.
type Item struct {
	ID int64

	// Where it was asked.
	Conn          string // public connection name
	Channel       string // watched channel (the forum or text channel)
	ThreadID      string // root message id of the public thread (Slack ts, Discord message or thread id)
	ThreadChannel string // Discord: the thread channel the conversation lives in, if any
	RootChannel   string // channel of the first message (a forum post's thread)
	RootMsgID     string
	Link          string // permalink to the original message
	AuthorID      string
	AuthorName    string // as people know them (display name, server nickname)
	AuthorHandle  string // their username

	Route    string
	Tags     []string
	Status   ItemStatus
	Assignee int64 // profile id; 0 when unassigned

	// Where it is mirrored. Set once the card has been posted.
	CardConn    string
	CardChannel string
	CardID      string // the card message
	CardThread  string // where the internal discussion happens (Slack: card ts; Discord: thread id)
	CardLink    string

	CreatedAt       time.Time
	UpdatedAt       time.Time
	FirstAnsweredAt *time.Time
}

// Attachment is a file relayed by name and link.
type Attachment struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// MessageKey identifies a platform message: platforms redeliver, this dedupes.
type MessageKey struct {
	Conn    string
	Channel string
	ID      string
}

// Message is one external message, original or follow-up.
type Message struct {
	ID           int64
	Key          MessageKey
	ItemID       int64 // 0 when no route took it
	AuthorID     string
	AuthorName   string
	AuthorHandle string
	Text         string
	Attachments  []Attachment
	Link         string
	MirrorID     string // the internal copy (follow-ups), once posted
	CreatedAt    time.Time
	EditedAt     *time.Time
	DeletedAt    *time.Time
	// ForgottenAt: its text, attachments and author's names were erased at
	// the member's request (see forget.go). PurgedAt: its text was emptied
	// once the retention period passed.
	ForgottenAt *time.Time
	PurgedAt    *time.Time
}

// DraftState is where a proposed public reply stands.
type DraftState string

const (
	DraftPending DraftState = "pending"
	// DraftAwaitingSigner: reviewed, but its words are not all the signer's
	// (an approver edited them, or someone else wrote the correction); it
	// is published once the signer accepts them.
	DraftAwaitingSigner DraftState = "awaiting_signer"
	DraftApproved       DraftState = "approved"
	DraftPublished      DraftState = "published"
	DraftRejected       DraftState = "rejected"
	DraftWithdrawn      DraftState = "withdrawn"
	DraftFailed         DraftState = "failed"
	DraftRetracted      DraftState = "retracted" // a published reply whose public post was removed
)

// DraftKind says what publishing the draft does.
type DraftKind string

const (
	DraftReply      DraftKind = "reply"      // a new public post
	DraftCorrection DraftKind = "correction" // edits the public post of Target
	DraftRetraction DraftKind = "retraction" // deletes the public post of Target
)

// DraftVersion is one text of a draft; every edit is kept.
type DraftVersion struct {
	N        int
	Text     string
	EditorID int64 // profile id
	At       time.Time
}

// Draft is a proposed public reply and its review.
type Draft struct {
	ID       int64
	ItemID   int64
	Kind     DraftKind
	Target   int64 // for corrections and retractions: the published draft they change
	AuthorID int64 // profile id of the signer
	State    DraftState
	Versions []DraftVersion

	ApproverID   int64 // profile id
	RejectReason string

	CardID string // the draft card in the internal thread

	PublicConn    string
	PublicChannel string
	PublicID      string // the public post, once published
	PublicLink    string

	CreatedAt   time.Time
	UpdatedAt   time.Time
	DecidedAt   *time.Time
	PublishedAt *time.Time
}

// Text is the latest version's text.
func (d *Draft) Text() string {
	if len(d.Versions) == 0 {
		return ""
	}
	return d.Versions[len(d.Versions)-1].Text
}

// Identity is a staff member's user id on one connection.
type Identity struct {
	Conn   string
	UserID string
}

// Profile is a staff member as the public sees them. What they may do is
// the routes' business: approvers are named by routes, and trust is given
// per route (Tx.TrustedRoutes).
type Profile struct {
	ID          int64
	Name        string // public display name
	Title       string
	AvatarURL   string
	Pronouns    string
	ConsentedAt *time.Time // consent to publish under this name
	Identities  []Identity
	// Seed is what the config last said of this profile; nil when the
	// config never named them.
	Seed      *ProfileSeed
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProfileSeed is a profile as an admin declares it in the config.
type ProfileSeed struct {
	Name        string     `json:"name"`
	Title       string     `json:"title,omitempty"`
	AvatarURL   string     `json:"avatar_url,omitempty"`
	Pronouns    string     `json:"pronouns,omitempty"`
	ConsentedAt *time.Time `json:"consented_at,omitempty"` // written consent on file
	TrustedOn   []string   `json:"trusted_on,omitempty"`   // route names
	Identities  []Identity `json:"-"`
}

// Consented reports whether the person agreed to publish under their name.
func (p *Profile) Consented() bool { return p != nil && p.ConsentedAt != nil && p.Name != "" }

// AuditEvent is an append-only record of an action.
type AuditEvent struct {
	ID      int64
	At      time.Time
	Actor   string // "slack:U123@internal", "system"
	Action  string // "draft.approve", "item.claim", …
	Subject string // "draft:12", "item:3"
	Before  string // JSON, may be empty
	After   string // JSON, may be empty
}

// JobState is where an outbox job stands.
type JobState string

const (
	JobPending JobState = "pending"
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobDead    JobState = "dead"
)

// OutboxJob is a platform operation waiting to happen. Jobs are written in
// the same transaction as the state change that causes them; their content is
// rendered from the current state when they run.
type OutboxJob struct {
	ID        int64
	Kind      OpKind
	ItemID    int64
	DraftID   int64
	MessageID int64  // message row, for mirrored follow-ups
	Conn      string // the connection the operation is sent on
	Channel   string // for rate-limit scheduling
	Payload   string // JSON, kind-specific extras (note text, notified user)

	// OrderKey serialises jobs: a job runs only when every earlier job with
	// the same key is done or dead (one item's card before its thread notes).
	OrderKey string
	// IdemKey, when set, is unique across all jobs: one publication per draft.
	IdemKey string
	// CoalesceKey, when set, is unique among pending jobs: an update already
	// waiting makes another one redundant, since content is rendered at run time.
	CoalesceKey string

	State     JobState
	Attempts  int // failures so far (rate-limit waits do not count)
	Uncertain bool
	RunAt     time.Time
	LockedBy  string
	LockedAt  *time.Time
	LastError string
	Result    string // JSON Result once done
	CreatedAt time.Time
	DoneAt    *time.Time
}
