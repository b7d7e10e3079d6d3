package bot

import (
	"context"
	"time"
)

// Store is the persistence Liaison needs. Implementations must make every
// InTx call atomic: a state change and the outbox jobs it causes commit
// together or not at all.
type Store interface {
	// InTx runs fn in one transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction whose reads take no row
	// locks: for rendering and checking, never for read-check-write.
	View(ctx context.Context, fn func(Tx) error) error

	// ClaimJobs leases up to limit runnable jobs to owner until now+lease,
	// most urgent first (OpKind.Priority, then RunAt, then id), leaving
	// alone the jobs skip says must wait for a rate limit. Runnable:
	// pending with RunAt <= now, or running with an expired lease (its
	// worker died: the job comes back with Uncertain set). A job is never
	// runnable while an earlier job with the same OrderKey is pending or
	// running. Two owners never hold the same job. Claiming does not count
	// as an attempt.
	ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip Skip) ([]*OutboxJob, error)
	// ExtendJobLease moves the lease of a running job owner holds to
	// until. A job owner no longer holds (reclaimed by another worker, or
	// finished) is left alone, and the error matches ErrJobLost.
	ExtendJobLease(ctx context.Context, id int64, owner string, until time.Time) error
	// ReleaseJobs puts every job owner holds back to pending, due when it
	// was and uncertain only if it was, and reports how many it released.
	// A worker that stops calls it for the jobs it claimed but never started.
	ReleaseJobs(ctx context.Context, owner string) (int, error)
	// OutboxStats counts the pending and running jobs due by now and says
	// how long the oldest of them has been due.
	OutboxStats(ctx context.Context, now time.Time) (due int, oldestDue time.Duration, err error)

	Close() error
}

// ErrJobLost is the conflict a worker meets when it renews, completes,
// retries or kills a job it no longer holds: another worker reclaimed it
// once its lease lapsed, or it is finished.
var ErrJobLost = &Error{Code: ECONFLICT, Message: "This job is no longer held by this worker."}

// Skip names the jobs a claim leaves alone because their rate-limit bucket
// has no slot free.
type Skip struct {
	// Channels: "conn/channel" (ChannelBucket) of the jobs that create a
	// message (OpKind.Creates) there.
	Channels []string
	// Conns: every job of these connections.
	Conns []string
}

// JobRetry is how a job goes back to pending.
type JobRetry struct {
	At        time.Time // when it may run again
	Err       string    // why it did not complete
	Failed    bool      // the attempt failed (a rate-limit wait is no failure)
	Uncertain bool      // the last call may have taken effect: reconcile first
}

// Tx is what a transaction can read and write. Not-found reads return an
// error matching ErrNotFound.
type Tx interface {
	// InsertMessage stores m unless its key exists; it reports whether it
	// inserted and sets m.ID, CreatedAt as given.
	InsertMessage(ctx context.Context, m *Message) (bool, error)
	MessageByKey(ctx context.Context, k MessageKey) (*Message, error)
	MessageByID(ctx context.Context, id int64) (*Message, error)
	// UpdateMessage writes ItemID, Text, Attachments, MirrorID, EditedAt, DeletedAt.
	UpdateMessage(ctx context.Context, m *Message) error
	// PurgeMessageText empties the text and attachments of up to limit
	// messages received before before, with an id after afterID, that still
	// hold some and were neither purged nor forgotten; it marks them purged
	// at now and returns them as they now are, in id order, so that a caller
	// can page through them all.
	PurgeMessageText(ctx context.Context, before time.Time, afterID int64, limit int, now time.Time) ([]*Message, error)

	CreateItem(ctx context.Context, it *Item) error
	// OpenItem stores a new item, its first message and its first job, as
	// cheaply as the engine allows. It sets the ids, m.ItemID, j.ItemID and
	// j.OrderKey (ItemOrderKey). It reports false when the message's key
	// exists; the transaction must then be rolled back.
	OpenItem(ctx context.Context, it *Item, m *Message, j *OutboxJob) (bool, error)
	Item(ctx context.Context, id int64) (*Item, error)
	// UpdateItem writes every mutable field; UpdatedAt as given.
	UpdateItem(ctx context.Context, it *Item) error
	// ItemByThread finds the item whose public thread is (conn, channel, threadID).
	ItemByThread(ctx context.Context, conn, channel, threadID string) (*Item, error)
	// ItemByCardThread finds the item discussed in the internal thread
	// thread of channel (the card's channel) on conn.
	ItemByCardThread(ctx context.Context, conn, channel, thread string) (*Item, error)
	// UnansweredItems lists up to limit items waiting for a public answer
	// (new, claimed, drafting, awaiting approval) opened before before, in
	// id order from the first id after afterID, so that a caller can page
	// through them all.
	UnansweredItems(ctx context.Context, before time.Time, afterID int64, limit int) ([]*Item, error)
	// MemberHistory lists up to limit of a member's items opened before
	// item before, newest first, each with the text of its first message as
	// Snippet. It takes no row locks.
	MemberHistory(ctx context.Context, conn, authorID string, before int64, limit int) ([]HistoryEntry, error)

	// CreateDraft inserts d and its versions.
	CreateDraft(ctx context.Context, d *Draft) error
	Draft(ctx context.Context, id int64) (*Draft, error)
	// UpdateDraft writes the mutable fields and inserts versions not stored yet.
	UpdateDraft(ctx context.Context, d *Draft) error
	DraftsByItem(ctx context.Context, itemID int64) ([]*Draft, error)
	// DraftsByAuthorState lists an author's drafts in a state, oldest first.
	DraftsByAuthorState(ctx context.Context, authorID int64, state DraftState) ([]*Draft, error)

	Profile(ctx context.Context, id int64) (*Profile, error)
	ProfileByIdentity(ctx context.Context, conn, userID string) (*Profile, error)
	// SaveProfile inserts (ID 0) or updates p and replaces its identities.
	// An identity held by another profile is a conflict (ECONFLICT).
	SaveProfile(ctx context.Context, p *Profile) error
	// TrustedRoutes lists the routes a profile is trusted on, by name.
	TrustedRoutes(ctx context.Context, profileID int64) ([]string, error)
	// SetTrust gives (trusted) or takes back trust on route; it reports
	// whether that changed anything. by says who decided.
	SetTrust(ctx context.Context, profileID int64, route string, trusted bool, by string, now time.Time) (bool, error)

	AppendAudit(ctx context.Context, e *AuditEvent) error
	AuditFor(ctx context.Context, subject string) ([]*AuditEvent, error)

	// Enqueue inserts j and reports false (inserting nothing) when its
	// IdemKey exists or its CoalesceKey is held by a pending job.
	Enqueue(ctx context.Context, j *OutboxJob) (bool, error)
	Job(ctx context.Context, id int64) (*OutboxJob, error)
	// CompleteJob marks a job owner holds done with its result. A job owner
	// no longer holds is a conflict matching ErrJobLost, as in RetryJob and
	// KillJob.
	CompleteJob(ctx context.Context, id int64, owner, result string, now time.Time) error
	// RetryJob releases a job owner holds back to pending, as r says.
	RetryJob(ctx context.Context, id int64, owner string, r JobRetry) error
	// KillJob marks a job owner holds dead.
	KillJob(ctx context.Context, id int64, owner, lastErr string, now time.Time) error
	// FollowingJobs lists the pending jobs after the job id in its
	// OrderKey, in order, up to limit.
	FollowingJobs(ctx context.Context, orderKey string, id int64, limit int) ([]*OutboxJob, error)
	// MergeJobs makes the pending jobs ids part of the job into, which
	// owner holds and whose payload becomes payload: they are done, their
	// result naming into. It fails with ErrJobLost unless every one of
	// them was still pending and into still owner's.
	MergeJobs(ctx context.Context, into int64, owner, payload string, ids []int64, now time.Time) error
	// MessagesByMirror lists an item's messages whose internal copy is
	// the platform message mirrorID, oldest first.
	MessagesByMirror(ctx context.Context, itemID int64, mirrorID string) ([]*Message, error)
	// PublishJobs lists every publish job a draft has had, oldest first,
	// whatever became of each: the attempts a new one is reconciled against.
	PublishJobs(ctx context.Context, draftID int64) ([]*OutboxJob, error)

	// FirstNotice records key and reports whether it was new.
	FirstNotice(ctx context.Context, key string, now time.Time) (bool, error)

	// Catching up and holding a live link (see leases.go).

	// LastMessage reads the newest message stored for (conn, channel), by
	// platform id order (Discord snowflakes: newest is greatest).
	LastMessage(ctx context.Context, conn, channel string) (*Message, error)
	// AcquireLease takes the lease name for owner until now+ttl, or renews
	// it, and reports whether owner holds it: false while another owner
	// holds it unexpired. Two owners never hold one lease at once.
	AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives up name if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error

	// Park keeps a message said in an unknown thread of a card channel
	// (see parked.go); it reports false when that message is parked already.
	Park(ctx context.Context, p *Parked) (bool, error)
	// ParkedMessages lists up to limit parked messages whose card is now
	// known (an item's card thread is theirs), oldest first.
	ParkedMessages(ctx context.Context, limit int) ([]*Parked, error)
	// Unpark removes a parked message.
	Unpark(ctx context.Context, id int64) error
	// DropParked removes the messages parked before before and reports
	// how many.
	DropParked(ctx context.Context, before time.Time) (int64, error)

	// Statistics (see stats_compute.go). Each only reads, locks nothing,
	// and reads the rows of one period, or of what waits now. route ""
	// means every route.

	// StatsItems lists the items opened in [from, to), oldest first.
	StatsItems(ctx context.Context, from, to time.Time, route string) ([]StatsItem, error)
	// StatsWaiting lists the items waiting for a public answer now (new,
	// claimed, drafting, awaiting approval), oldest first.
	StatsWaiting(ctx context.Context, route string) ([]StatsItem, error)
	// StatsApprovals lists the drafts a person approved in [from, to):
	// decided then, with an approver, and not rejected.
	StatsApprovals(ctx context.Context, from, to time.Time, route string) ([]StatsApproval, error)
	// StatsAwaitingApproval counts the drafts pending or awaiting their
	// signer now.
	StatsAwaitingApproval(ctx context.Context, route string) (int, error)
	// StatsResponders counts the replies published in [from, to) by the
	// public name of their signer, in no particular order.
	StatsResponders(ctx context.Context, from, to time.Time, route string) ([]Count, error)
	// StatsMembers counts the distinct members (connection, author id) who
	// wrote a message in [from, to), and how many of them had written one
	// before from. On a route, only messages of its items count.
	StatsMembers(ctx context.Context, from, to time.Time, route string) (members, returning int, err error)

	// Digests (see digest.go).

	// InsertDigest records one period of a digest, unless that digest's
	// period ending at d.PeriodEnd is recorded already: it reports whether
	// it inserted, and sets d.ID.
	InsertDigest(ctx context.Context, d *DigestRun) (bool, error)
	// SetDigestJob records the job that posts a recorded period.
	SetDigestJob(ctx context.Context, id, jobID int64) error
	// DigestRuns lists up to limit recorded periods of a digest, latest
	// first.
	DigestRuns(ctx context.Context, name string, limit int) ([]*DigestRun, error)

	// Forgetting a member (see forget.go) and the audit export (see
	// audit_export.go).

	// MemberItems lists the items a member opened on conn, in id order. It
	// takes no row locks.
	MemberItems(ctx context.Context, conn, authorID string) ([]*Item, error)
	// ForgetMember erases the text, attachments, name and handle of the
	// member's messages on conn not erased yet (marking them forgotten at
	// now), and their name and handle on the items they opened, and records
	// the member as forgotten at now by by. It returns the messages it
	// erased, as they now are, in id order. Rows, ids and times remain.
	ForgetMember(ctx context.Context, conn, authorID, by string, now time.Time) ([]*Message, error)
	// MemberForgotten reports when a member was last forgotten; nil when
	// never.
	MemberForgotten(ctx context.Context, conn, authorID string) (*time.Time, error)
	// AuditItemIDs lists up to limit ids of the items opened or changed at
	// or after since, in id order from the first id after afterID.
	AuditItemIDs(ctx context.Context, since time.Time, afterID int64, limit int) ([]int64, error)
	// ItemMessages lists the public messages of the items with ids in
	// [first, last], by item, oldest first.
	ItemMessages(ctx context.Context, first, last int64) ([]*Message, error)

	// People's Homes (see home.go). The lists only read and lock nothing.

	// SaveHomeViewer records that a person opened their Home, with the
	// groups they held then; it replaces what was recorded of them.
	SaveHomeViewer(ctx context.Context, v *HomeViewer) error
	// HomeViewer reads what was recorded of a person who opened their Home
	// on conn.
	HomeViewer(ctx context.Context, conn, userID string) (*HomeViewer, error)
	// HomeViewers lists the people who opened their Home on conn at or
	// after since, in no particular order.
	HomeViewers(ctx context.Context, conn string, since time.Time) ([]*HomeViewer, error)
	// AssignedItems lists up to limit of the items assigned to a profile
	// that wait for a public answer (new, claimed, drafting, awaiting
	// approval), oldest first, and says how many there are.
	AssignedItems(ctx context.Context, profileID int64, limit int) ([]*Item, int, error)
	// DraftsToReview lists up to limit drafts pending or failed to publish
	// on the items of routes (by name), oldest first.
	DraftsToReview(ctx context.Context, routes []string, limit int) ([]*Draft, error)
	// DraftsOf lists up to limit of the drafts a profile signs or
	// proposed, newest first, and says how many there are.
	DraftsOf(ctx context.Context, profileID int64, limit int) ([]*Draft, int, error)
}
