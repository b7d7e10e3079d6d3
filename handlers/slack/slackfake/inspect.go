package slackfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Messages returns the messages of a channel in order, thread replies and
// deleted messages (Deleted set) included.
func (f *Fake) Messages(channelID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[channelID]
	if ch == nil {
		return nil
	}
	out := make([]Message, len(ch.messages))
	for i, m := range ch.messages {
		out[i] = m.snapshot()
	}
	return out
}

// Thread returns the parent ts and its replies, in order, deleted ones
// included.
func (f *Fake) Thread(channelID, ts string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[channelID]
	if ch == nil || ch.byTS[ts] == nil {
		return nil
	}
	var out []Message
	for _, m := range ch.messages {
		if m.TS == ts || m.ThreadTS == ts {
			out = append(out, m.snapshot())
		}
	}
	return out
}

// Message returns one message of a channel.
func (f *Fake) Message(channelID, ts string) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[channelID]
	if ch == nil || ch.byTS[ts] == nil {
		return Message{}, false
	}
	return ch.byTS[ts].snapshot(), true
}

// Ephemerals returns the ephemeral messages shown to a user, in order.
func (f *Fake) Ephemerals(userID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ephemerals[userID])
}

// Calls returns the Web API calls answered so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	for i, c := range f.calls {
		c.Params = cloneValues(c.Params)
		out[i] = c
	}
	return out
}

// RateLimited counts the Web API calls answered 429: a channel's or a
// method's limit, or FailNext's "ratelimited".
func (f *Fake) RateLimited() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// Acks returns the acknowledgements received so far, in order.
func (f *Fake) Acks() []Ack {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.acks)
	for i := range out {
		out[i].Payload = slices.Clone(out[i].Payload)
	}
	return out
}

// Deliveries returns every payload sent, or to be sent, to the bot, in order.
func (f *Fake) Deliveries() []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Delivery, len(f.deliveries))
	for i, e := range f.deliveries {
		out[i] = e.public()
	}
	return out
}

// Shown is what a message shows a reader, as text to search: its text, then
// every "text" string of its blocks (section, header and context texts,
// fields, button labels, confirmation dialogs…), one a line, in the order
// the blocks hold them.
func Shown(m Message) string {
	return strings.Join(append([]string{m.Text}, texts(m.Blocks)...), "\n")
}

// texts returns the strings under a "text" key anywhere in raw JSON, in
// document order, as far as raw reads as JSON.
func texts(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var (
		out     []string
		objects []bool // the open containers: true for an object, false for an array
		key     string // the key of the value that comes next in an object
		isKey   bool   // the next token of the object is a key
	)
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		inObject := len(objects) > 0 && objects[len(objects)-1]
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				objects = append(objects, t == '{')
				isKey = t == '{'
				continue
			}
			objects = objects[:len(objects)-1]
		case string:
			if isKey {
				key, isKey = t, false
				continue
			}
			if inObject && key == "text" {
				out = append(out, t)
			}
		}
		// A value ended: in an object, a key comes next.
		isKey = len(objects) > 0 && objects[len(objects)-1]
	}
}
