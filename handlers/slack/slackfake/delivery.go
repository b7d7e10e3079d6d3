package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"
)

// maxRetries is how many times Slack redelivers an Events API payload.
const maxRetries = 3

// kind is the kind of a delivery, and the type of its Socket Mode envelope.
type kind int

const (
	eventsAPI kind = iota
	interactive
	slashCommands
)

func (k kind) String() string {
	return [...]string{"events_api", "interactive", "slash_commands"}[k]
}

type envState int

const (
	pending  envState = iota // waiting for a socket or an HTTP slot
	inFlight                 // sent, waiting for its ack
	settled                  // acked, or given up
)

// envelope is one delivery to the bot and its progress.
type envelope struct {
	id           string
	kind         kind
	body         []byte // the payload's JSON
	form         []byte // the HTTP-mode form body, for interactive and slash_commands
	eventID      string
	accepts      bool // accepts_response_payload
	retryAttempt int
	retryReason  string
	state        envState
	due          time.Time   // real time before which a retry waits (Options.RetryDelays)
	conn         *socketConn // the socket it is in flight on, nil over HTTP
	deadline     time.Time   // real time by which a socket ack is due
	sends        int
	sockets      []int // the socket of each attempt over Socket Mode
	acked        bool
	failed       bool
	// onAck applies the ack's payload (nil when none) to the workspace; it
	// runs with f.mu held.
	onAck func(payload json.RawMessage)
}

// Delivery is one payload sent to the bot, whatever the transport.
type Delivery struct {
	EnvelopeID string
	Type       string // "events_api", "interactive" or "slash_commands"
	EventID    string // for events_api
	Payload    json.RawMessage
	Attempts   int  // how many times it was sent
	Acked      bool // the bot acknowledged it
	// Failed: Slack gave up. An Events API payload was never acknowledged
	// and its retries are spent; an interaction or a command was not
	// acknowledged in time, and the person who acted saw Slack's error.
	Failed bool
	// Sockets numbers the Socket Mode connection each attempt went to (the
	// first connection accepted is 1; see Connects), in order.
	Sockets []int
}

// Ack is an acknowledgement the bot sent: a Socket Mode ack frame, or the 2xx
// answer to an HTTP-mode delivery.
type Ack struct {
	EnvelopeID   string
	Type         string
	RetryAttempt int             // of the delivery it acknowledged
	Payload      json.RawMessage // nil when the ack carried none
	Transport    string          // "socket" or "http"
	Late         bool            // arrived after Slack gave up; ignored
}

// enqueueLocked queues a payload for the bot.
func (f *Fake) enqueueLocked(k kind, payload object, accepts bool, onAck func(json.RawMessage)) *envelope {
	body, _ := json.Marshal(payload) // payloads are built from JSON-safe values
	e := &envelope{id: uuid(), kind: k, body: body, accepts: accepts, onAck: onAck}
	if id, ok := payload["event_id"].(string); ok {
		e.eventID = id
	}
	f.queue = append(f.queue, e)
	f.deliveries = append(f.deliveries, e)
	f.envelopes[e.id] = e
	f.nudge()
	return e
}

// emitLocked delivers a message-channel event to the bot if it is a member of
// the channel, as Slack does for message.channels and message.groups.
func (f *Fake) emitLocked(ch *channel, event object) {
	if !ch.members[f.opts.BotUserID] {
		return
	}
	f.enqueueLocked(eventsAPI, f.eventCallbackLocked(ch.id, event), false, nil)
}

// eventCallbackLocked wraps an event in Slack's Events API envelope.
func (f *Fake) eventCallbackLocked(channelID string, event object) object {
	typ, _ := event["type"].(string)
	ctx, _ := json.Marshal(object{"et": typ, "tid": f.opts.TeamID, "aid": f.opts.AppID, "cid": channelID})
	return object{
		"token":                 f.opts.VerificationToken,
		"team_id":               f.opts.TeamID,
		"context_team_id":       f.opts.TeamID,
		"context_enterprise_id": nil,
		"api_app_id":            f.opts.AppID,
		"event":                 event,
		"type":                  "event_callback",
		"event_id":              f.idLocked("Ev"),
		"event_time":            f.now().Unix(),
		"authorizations":        []object{f.authorization()},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + base64.RawURLEncoding.EncodeToString(ctx),
	}
}

// nudge wakes the delivery loop.
func (f *Fake) nudge() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// deliverLoop sends queued payloads and times out the unacknowledged ones.
func (f *Fake) deliverLoop() {
	defer f.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		f.mu.Lock()
		wait := f.pumpLocked(time.Now())
		f.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-f.ctx.Done():
			return
		case <-f.wake:
		case <-timer.C:
		}
	}
}

// pumpLocked moves deliveries along and returns how long to sleep.
func (f *Fake) pumpLocked(now time.Time) time.Duration {
	changed := false
	for _, e := range f.queue {
		if e.state == inFlight && e.conn != nil && !now.Before(e.deadline) {
			f.failAttemptLocked(e, "timeout")
			changed = true
		}
	}
	next := time.Hour
	for _, e := range f.queue {
		if e.state != pending {
			continue
		}
		if now.Before(e.due) {
			next = min(next, e.due.Sub(now))
			continue
		}
		if url := f.endpoints[e.kind]; url != "" {
			if !f.httpBusy[e.kind] && !f.closed {
				f.httpBusy[e.kind] = true
				e.state = inFlight
				e.sends++
				changed = true
				req := f.httpDeliveryLocked(e, url)
				f.goLocked(func() { f.deliverHTTP(e, req) })
			}
			continue
		}
		c := f.pickConnLocked()
		if c == nil {
			continue
		}
		select {
		case c.out <- frame{data: e.frame()}:
			e.state = inFlight
			e.conn = c
			e.deadline = now.Add(f.opts.AckTimeout)
			e.sends++
			e.sockets = append(e.sockets, c.n)
			changed = true
		default: // the socket is backed up: try again soon
			next = min(next, 10*time.Millisecond)
		}
	}
	for _, e := range f.queue {
		if e.state == inFlight && e.conn != nil {
			next = min(next, e.deadline.Sub(now))
		}
	}
	f.queue = slices.DeleteFunc(f.queue, func(e *envelope) bool { return e.state == settled })
	if changed {
		f.changedLocked()
	}
	return max(next, time.Millisecond)
}

// frame renders the Socket Mode envelope.
func (e *envelope) frame() []byte {
	b, _ := json.Marshal(object{
		"envelope_id":              e.id,
		"type":                     e.kind.String(),
		"payload":                  json.RawMessage(e.body),
		"accepts_response_payload": e.accepts,
		"retry_attempt":            e.retryAttempt,
		"retry_reason":             e.retryReason,
	})
	return b
}

// failAttemptLocked handles an attempt that got no ack: Events API payloads
// are retried up to maxRetries times, after Options.RetryDelays; interactions
// and commands are not (Slack shows the user an error instead).
func (f *Fake) failAttemptLocked(e *envelope, reason string) {
	e.conn = nil
	if e.kind == eventsAPI && e.retryAttempt < maxRetries {
		e.due = time.Now().Add(f.opts.RetryDelays[e.retryAttempt])
		e.retryAttempt++
		e.retryReason = reason
		e.state = pending
		return
	}
	e.state = settled
	e.failed = true
}

// ackLocked records an ack and applies its payload.
func (f *Fake) ackLocked(envelopeID string, payload json.RawMessage, transport string) {
	e := f.envelopes[envelopeID]
	if e == nil || e.acked {
		return
	}
	if string(payload) == "null" || len(payload) == 0 {
		payload = nil
	}
	f.acks = append(f.acks, Ack{
		EnvelopeID:   e.id,
		Type:         e.kind.String(),
		RetryAttempt: e.retryAttempt,
		Payload:      payload,
		Transport:    transport,
		Late:         e.failed,
	})
	f.changedLocked()
	if e.failed {
		return
	}
	e.acked = true
	e.state = settled
	e.conn = nil
	if e.onAck != nil {
		e.onAck(payload)
	}
}

func (e *envelope) public() Delivery {
	return Delivery{
		EnvelopeID: e.id,
		Type:       e.kind.String(),
		EventID:    e.eventID,
		Payload:    slices.Clone(json.RawMessage(e.body)),
		Attempts:   e.sends,
		Acked:      e.acked,
		Failed:     e.failed,
		Sockets:    slices.Clone(e.sockets),
	}
}
