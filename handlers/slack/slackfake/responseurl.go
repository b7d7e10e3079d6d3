package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

const (
	responseURLLifetime = 30 * time.Minute // Slack's limits on a response_url
	responseURLUses     = 5
)

// responseURL is what a response_url answers for.
type responseURL struct {
	userID, channelID string
	messageTS         string // the message an interaction came from, "" for a command
	threadTS          string
	ephemeral         bool // messageTS is an ephemeral message of userID
	issued            time.Time
	uses              int
}

// reply is a message sent to a response_url or in a command's ack.
type reply struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	Attachments     json.RawMessage `json:"attachments"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// responseURLLocked issues a response_url under /actions/ or /commands/.
func (f *Fake) responseURLLocked(kind, userID, channelID, messageTS, threadTS string, ephemeral bool) string {
	u := fmt.Sprintf("%s/%s/%s/%d/%s", f.baseURL, kind, f.opts.TeamID, 1e12+int64(f.seq), randomHex(12))
	f.seq++
	f.responseURLs[u] = &responseURL{
		userID: userID, channelID: channelID, messageTS: messageTS, threadTS: threadTS,
		ephemeral: ephemeral, issued: f.now(),
	}
	return u
}

// serveResponseURL answers a POST to a response_url.
func (f *Fake) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, object{"ok": false, "error": "invalid_method"})
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, object{"ok": false, "error": "invalid_payload"})
		return
	}
	var rep reply
	if err := json.Unmarshal(data, &rep); err != nil {
		writeJSON(w, http.StatusBadRequest, object{"ok": false, "error": "invalid_payload"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rc := f.responseURLs[f.baseURL+r.URL.Path]
	switch {
	case rc == nil:
		writeJSON(w, http.StatusNotFound, object{"ok": false, "error": "no_service"})
		return
	case f.now().Sub(rc.issued) > responseURLLifetime:
		writeJSON(w, http.StatusNotFound, object{"ok": false, "error": "expired_url"})
		return
	case rc.uses >= responseURLUses:
		writeJSON(w, http.StatusNotFound, object{"ok": false, "error": "used_url"})
		return
	}
	rc.uses++
	if aerr := f.respondLocked(rc, rep); aerr != nil {
		writeJSON(w, http.StatusBadRequest, object{"ok": false, "error": aerr.code})
		return
	}
	f.changedLocked()
	writeJSON(w, http.StatusOK, object{"ok": true})
}

// respondLocked applies a reply: delete or replace the original message, post
// in the channel, or show the user an ephemeral message.
func (f *Fake) respondLocked(rc *responseURL, rep reply) *apiError {
	ch := f.channels[rc.channelID]
	params := map[string][]string{"text": {rep.Text}}
	if len(rep.Blocks) > 0 && string(rep.Blocks) != "null" {
		params["blocks"] = []string{string(rep.Blocks)}
	}
	if len(rep.Attachments) > 0 && string(rep.Attachments) != "null" {
		params["attachments"] = []string{string(rep.Attachments)}
	}
	req := &apiRequest{params: params}
	switch {
	case rep.DeleteOriginal:
		if rc.ephemeral {
			f.dropEphemeralLocked(rc)
		} else if m := ch.byTS[rc.messageTS]; m != nil && !m.Deleted && m.isBot() {
			f.deleteLocked(ch, m, !f.opts.DisableBotEcho)
		}
		return nil
	case rep.ReplaceOriginal:
		c, err := parseContent(req, true)
		if err != nil {
			return err
		}
		if rc.ephemeral {
			f.dropEphemeralLocked(rc)
			f.ephemeralLocked(ch, rc.userID, rc.messageTS, rc.threadTS, c)
		} else if m := ch.byTS[rc.messageTS]; m != nil && !m.Deleted && m.isBot() {
			before := f.wireLocked(ch, m, wireOptions{})
			f.editLocked(m, f.opts.BotUserID, c)
			if !f.opts.DisableBotEcho {
				f.emitChangedLocked(ch, m, before)
			}
		}
		return nil
	}
	c, err := parseContent(req, true)
	if err != nil {
		return err
	}
	threadTS := rep.ThreadTS
	if threadTS == "" && rc.threadTS != rc.messageTS {
		threadTS = rc.threadTS
	}
	if rep.ResponseType == "in_channel" {
		m := f.botMessageLocked(ch, req, c)
		if parent := ch.byTS[threadTS]; parent != nil {
			parent.ThreadTS = parent.TS
			m.ThreadTS = threadTS
		}
		ch.add(m)
		if !f.opts.DisableBotEcho {
			f.emitLocked(ch, f.wireLocked(ch, m, wireOptions{event: true}))
		}
		return nil
	}
	f.ephemeralLocked(ch, rc.userID, f.tsLocked(), threadTS, c)
	return nil
}

// ephemeralLocked shows a message of the bot to one user.
func (f *Fake) ephemeralLocked(ch *channel, userID, ts, threadTS string, c content) {
	f.ephemerals[userID] = append(f.ephemerals[userID], Message{
		Channel: ch.id, TS: ts, ThreadTS: threadTS, User: f.opts.BotUserID, BotID: f.opts.BotID,
		Text: c.text, Blocks: c.blocks, Attachments: c.attachments, Ephemeral: true,
	})
}

func (f *Fake) dropEphemeralLocked(rc *responseURL) {
	f.ephemerals[rc.userID] = slices.DeleteFunc(f.ephemerals[rc.userID], func(m Message) bool {
		return m.Channel == rc.channelID && m.TS == rc.messageTS
	})
}
