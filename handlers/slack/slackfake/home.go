package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The App Home's Home tab: views.publish stores a user's Home, OpenHome
// delivers app_home_opened as Slack does when a person opens it, and
// ClickHome clicks a button on it (a block_actions payload from a view:
// no channel, no response_url, a trigger_id). Sources in
// testdata/SOURCES.md.

const (
	// homeBlocksMax: a Home tab view holds at most 100 blocks
	// (https://docs.slack.dev/reference/views/home-tab-views).
	homeBlocksMax = 100
	// viewMaxBytes: views.publish refuses a view over 250 kB
	// (view_too_large).
	viewMaxBytes = 250 << 10
)

// Home is the Home tab published for a user.
type Home struct {
	ViewID    string
	UserID    string
	Hash      string
	Blocks    json.RawMessage // as published, blocks normalized
	JSON      json.RawMessage // the view as views.publish returns it
	Publishes int             // how many times it was published
}

// Text is what the Home shows, as text to search: every "text" string of
// its blocks, one a line, in order.
func (h Home) Text() string { return strings.Join(texts(h.Blocks), "\n") }

// homeTab is a user's published Home.
type homeTab struct {
	view
	publishes int
}

// parseHomeView checks a Home tab view like Slack does and normalizes its
// blocks.
func parseHomeView(raw string) (object, *apiError) {
	if len(raw) > viewMaxBytes {
		return nil, refuse("view_too_large")
	}
	def, err := decodeView(raw, "home")
	if err != nil {
		return nil, err
	}
	if id, _ := def["callback_id"].(string); utf8.RuneCountInString(id) > 255 {
		return nil, errorf("invalid_arguments", "must be at most 255 characters [json-pointer:/view/callback_id]")
	}
	if s, _ := def["private_metadata"].(string); len(s) > 3000 {
		return nil, errorf("invalid_arguments", "view.private_metadata: longer than 3000 characters")
	}
	if _, err := normalizeViewBlocks(def, homeBlocksMax); err != nil {
		return nil, err
	}
	return def, nil
}

// wireHomeLocked renders a Home as views.publish returns it and as
// payloads carry it.
func (f *Fake) wireHomeLocked(h *homeTab) object {
	w := f.wireViewLocked(&h.view)
	w["type"] = "home"
	return w
}

// viewsPublish publishes a user's Home tab: user_id must be a person of the
// team; hash, when given, must be the Home's current one.
func (f *Fake) viewsPublish(r *apiRequest) (object, *apiError) {
	userID := r.get("user_id")
	if userID == "" {
		return nil, errorf("invalid_arguments", "missing required field: user_id")
	}
	if u := f.users[userID]; u == nil || u.IsBot {
		return nil, errorf("invalid_arguments", "user_id: %q is not a user of this team", userID)
	}
	def, err := parseHomeView(r.get("view"))
	if err != nil {
		return nil, err
	}
	h := f.homes[userID]
	if hash := r.get("hash"); hash != "" && (h == nil || hash != h.hash) {
		return nil, refuse("hash_conflict")
	}
	if ext, _ := def["external_id"].(string); ext != "" {
		if f.externalIDTakenLocked(def, "") {
			return nil, refuse("duplicate_external_id")
		}
		for uid, other := range f.homes {
			if uid != userID && other.def["external_id"] == ext {
				return nil, refuse("duplicate_external_id")
			}
		}
	}
	if h == nil {
		id := f.idLocked("V")
		h = &homeTab{view: view{id: id, userID: userID, rootID: id}}
		f.homes[userID] = h
	}
	h.def, h.hash = def, f.newHashLocked()
	h.publishes++
	return object{"view": f.wireHomeLocked(h)}, nil
}

// Home returns the Home tab published for a user; false when none was.
func (f *Fake) Home(userID string) (Home, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.homes[userID]
	if h == nil {
		return Home{}, false
	}
	blocks, _ := json.Marshal(h.def["blocks"])
	raw, _ := json.Marshal(f.wireHomeLocked(h))
	return Home{ViewID: h.id, UserID: userID, Hash: h.hash, Blocks: blocks, JSON: raw, Publishes: h.publishes}, true
}

// OpenHome opens the app's Home tab as userID, as a person clicking the
// app in Slack's sidebar: the bot gets app_home_opened with tab "home",
// and the Home's current view once one was published.
func (f *Fake) OpenHome(userID string) error { return f.OpenAppHome(userID, "home") }

// OpenAppHome opens a tab of the App Home as userID: "home", or
// "messages" (the app's direct messages).
func (f *Fake) OpenAppHome(userID, tab string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[userID]
	if u == nil || u.IsBot {
		return fmt.Errorf("slackfake: OpenAppHome: no user %s", userID)
	}
	if tab != "home" && tab != "messages" {
		return fmt.Errorf("slackfake: OpenAppHome: no tab %q (want home or messages)", tab)
	}
	// The direct-message channel between the app and the person.
	dm := "D" + strings.TrimLeft(userID, "UW")
	event := object{"type": "app_home_opened", "user": userID, "channel": dm, "tab": tab, "event_ts": f.tsLocked()}
	if h := f.homes[userID]; h != nil && tab == "home" {
		event["view"] = f.wireHomeLocked(h)
	}
	f.enqueueLocked(eventsAPI, f.eventCallbackLocked(dm, event), false, nil)
	f.changedLocked()
	return nil
}

// ClickHome clicks, as userID, the button of their Home whose action_id is
// actionID and whose value is value ("" for the first button with that
// action_id). The bot gets block_actions from the view, with a trigger_id
// and neither a channel nor a response_url.
func (f *Fake) ClickHome(userID, actionID, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.homes[userID]
	if h == nil {
		return fmt.Errorf("slackfake: ClickHome: %s has no Home published", userID)
	}
	return f.clickHomeLocked("ClickHome", userID, h.id, f.wireHomeLocked(h), actionID, value)
}

// ClickHomeAsShown clicks a button of a Home as the person's client still
// showed it, an earlier publication of their Home (what Home returned
// then): a click sent before the newer view reached them, whose payload
// carries the view they saw.
func (f *Fake) ClickHomeAsShown(userID string, shown Home, actionID, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.homes[userID]
	if h == nil || shown.UserID != userID || shown.ViewID != h.id {
		return fmt.Errorf("slackfake: ClickHomeAsShown: that is not a Home of %s", userID)
	}
	var view object
	if err := json.Unmarshal(shown.JSON, &view); err != nil {
		return fmt.Errorf("slackfake: ClickHomeAsShown: %w", err)
	}
	return f.clickHomeLocked("ClickHomeAsShown", userID, h.id, view, actionID, value)
}

// clickHomeLocked sends the click of a button of view, the Home viewID of
// userID as their client shows it.
func (f *Fake) clickHomeLocked(op, userID, viewID string, view object, actionID, value string) error {
	u := f.users[userID]
	if u == nil {
		return fmt.Errorf("slackfake: %s: no user %s", op, userID)
	}
	blockID, el, ok := homeButton(view, actionID, value)
	if !ok {
		return fmt.Errorf("slackfake: %s: the Home of %s has no button %q with value %q", op, userID, actionID, value)
	}
	action := f.buttonActionLocked(actionID, blockID, el)
	payload := f.interaction("block_actions", u, object{
		"container":  object{"type": "view", "view_id": viewID},
		"trigger_id": f.issueTriggerLocked(userID),
		"view":       view,
		"actions":    []object{action},
	})
	f.enqueueInteractionLocked(payload, false, nil)
	f.changedLocked()
	return nil
}

// homeButton finds a button of a Home by action_id and value.
func homeButton(view object, actionID, value string) (blockID string, el object, ok bool) {
	blocks, _ := view["blocks"].([]any)
	for _, raw := range blocks {
		b, _ := raw.(object)
		if b == nil {
			continue
		}
		for _, e := range elementsOf(b) {
			if e["type"] != "button" || e["action_id"] != actionID {
				continue
			}
			if v, _ := e["value"].(string); value != "" && v != value {
				continue
			}
			id, _ := b["block_id"].(string)
			return id, e, true
		}
	}
	return "", nil, false
}
