package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	triggerLifetime = 3 * time.Second // trigger_id works once, within 3 s
	maxViewStack    = 3               // Slack stacks at most 3 modals
)

// View is an open modal.
type View struct {
	ID              string
	UserID          string // whom it is open for
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Title           string
	Hash            string
	RootViewID      string
	PreviousViewID  string
	Errors          map[string]string // shown by response_action "errors", by block_id
	JSON            json.RawMessage   // the view as views.open/update return it
}

type trigger struct {
	userID string
	issued time.Time
	used   bool
}

// view is a stored modal.
type view struct {
	id, userID         string
	def                object // the view as the app sent it, blocks normalized
	hash               string
	rootID, previousID string
	errors             map[string]string
	state              object // state.values
}

// issueTriggerLocked hands out a trigger_id for an interaction of userID.
func (f *Fake) issueTriggerLocked(userID string) string {
	f.seq++
	id := fmt.Sprintf("%d.%d.%s", 1e12+int64(f.seq), 1e9+int64(f.seq), randomHex(16))
	f.triggers[id] = &trigger{userID: userID, issued: f.now()}
	return id
}

// useTriggerLocked exchanges a trigger_id, as views.open and views.push do.
func (f *Fake) useTriggerLocked(id string) (*trigger, *apiError) {
	t := f.triggers[id]
	switch {
	case t == nil:
		return nil, refuse("invalid_trigger_id")
	case t.used:
		return nil, refuse("exchanged_trigger_id")
	case f.now().Sub(t.issued) > triggerLifetime:
		return nil, refuse("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// decodeView reads a view argument: a JSON object of type typ.
func decodeView(raw, typ string) (object, *apiError) {
	if raw == "" {
		return nil, errorf("invalid_arguments", "missing required field: view")
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var def object
	if err := dec.Decode(&def); err != nil || def == nil {
		return nil, errorf("invalid_arguments", "view: not a JSON object")
	}
	if def["type"] != typ {
		return nil, errorf("invalid_arguments", "view.type: must be %s", typ)
	}
	return def, nil
}

// normalizeViewBlocks checks the blocks of a view, at most limit of them,
// normalizes them in def and returns them.
func normalizeViewBlocks(def object, limit int) ([]any, *apiError) {
	if def["blocks"] == nil {
		return nil, errorf("invalid_arguments", "missing required field: blocks")
	}
	blocksRaw, _ := json.Marshal(def["blocks"])
	blocks, code, why := normalizeBlocks(string(blocksRaw), limit)
	if code != "" {
		// views.* answer invalid_arguments where chat.* says invalid_blocks.
		return nil, errorf("invalid_arguments", "view.blocks: %s: %s", code, why)
	}
	var bs []any
	dec := json.NewDecoder(bytes.NewReader(blocks))
	dec.UseNumber()
	_ = dec.Decode(&bs)
	def["blocks"] = bs
	return bs, nil
}

// parseView checks a modal definition like Slack does and normalizes its blocks.
func parseView(raw string) (object, *apiError) {
	def, err := decodeView(raw, "modal")
	if err != nil {
		return nil, err
	}
	// https://api.slack.com/reference/surfaces/views: title, close and
	// submit are plain_text of at most 24 characters; title is required.
	if why := checkText(def["title"], "/view/title", 1, 24, true); why != "" {
		return nil, errorf("invalid_arguments", "%s", why)
	}
	for _, k := range []string{"close", "submit"} {
		if def[k] == nil {
			continue
		}
		if why := checkText(def[k], "/view/"+k, 1, 24, true); why != "" {
			return nil, errorf("invalid_arguments", "%s", why)
		}
	}
	if id, _ := def["callback_id"].(string); utf8.RuneCountInString(id) > 255 {
		return nil, errorf("invalid_arguments", "must be at most 255 characters [json-pointer:/view/callback_id]")
	}
	bs, err := normalizeViewBlocks(def, 100)
	if err != nil {
		return nil, err
	}
	if len(inputsOf(bs)) > 0 && textOf(def["submit"]) == "" {
		return nil, errorf("invalid_arguments", "view.submit: required when the view has input blocks")
	}
	if s, _ := def["private_metadata"].(string); len(s) > 3000 {
		return nil, errorf("invalid_arguments", "view.private_metadata: longer than 3000 characters")
	}
	return def, nil
}

// wireViewLocked renders a view as the views.* methods return it.
func (f *Fake) wireViewLocked(v *view) object {
	w := maps.Clone(v.def)
	str := func(k string) string { s, _ := v.def[k].(string); return s }
	state := object{}
	if v.state != nil {
		state = v.state
	}
	maps.Copy(w, object{
		"id":                    v.id,
		"team_id":               f.opts.TeamID,
		"type":                  "modal",
		"private_metadata":      str("private_metadata"),
		"callback_id":           str("callback_id"),
		"state":                 object{"values": state},
		"hash":                  v.hash,
		"clear_on_close":        v.def["clear_on_close"] == true,
		"notify_on_close":       v.def["notify_on_close"] == true,
		"root_view_id":          v.rootID,
		"previous_view_id":      nilIfEmpty(v.previousID),
		"app_id":                f.opts.AppID,
		"external_id":           str("external_id"),
		"app_installed_team_id": f.opts.TeamID,
		"bot_id":                f.opts.BotID,
	})
	for _, k := range []string{"close", "submit"} {
		if _, ok := w[k]; !ok {
			w[k] = nil
		}
	}
	return w
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *Fake) newHashLocked() string {
	return fmt.Sprintf("%d.%s", f.now().Unix(), randomHex(4))
}

// openViewLocked stores a new modal on top of the user's stack.
func (f *Fake) openViewLocked(userID string, def object, root bool) *view {
	v := &view{id: f.idLocked("V"), userID: userID, def: def, hash: f.newHashLocked()}
	if root {
		for _, id := range f.stacks[userID] {
			delete(f.views, id)
		}
		f.stacks[userID] = nil
	}
	stack := f.stacks[userID]
	v.rootID = v.id
	if len(stack) > 0 {
		v.rootID = stack[0]
		v.previousID = stack[len(stack)-1]
	}
	f.views[v.id] = v
	f.stacks[userID] = append(stack, v.id)
	return v
}

func (f *Fake) externalIDTakenLocked(def object, except string) bool {
	ext, _ := def["external_id"].(string)
	if ext == "" {
		return false
	}
	for _, v := range f.views {
		if v.id != except && v.def["external_id"] == ext {
			return true
		}
	}
	return false
}

// triggeredViewLocked uses the trigger_id argument of views.open or
// views.push and reads its view argument.
func (f *Fake) triggeredViewLocked(r *apiRequest) (*trigger, object, *apiError) {
	t, err := f.useTriggerLocked(r.get("trigger_id"))
	if err != nil {
		return nil, nil, err
	}
	def, err := parseView(r.get("view"))
	if err != nil {
		return nil, nil, err
	}
	return t, def, nil
}

func (f *Fake) viewsOpen(r *apiRequest) (object, *apiError) {
	t, def, err := f.triggeredViewLocked(r)
	if err != nil {
		return nil, err
	}
	if f.externalIDTakenLocked(def, "") {
		return nil, refuse("duplicate_external_id")
	}
	v := f.openViewLocked(t.userID, def, true)
	return object{"view": f.wireViewLocked(v)}, nil
}

func (f *Fake) viewsPush(r *apiRequest) (object, *apiError) {
	t, def, err := f.triggeredViewLocked(r)
	if err != nil {
		return nil, err
	}
	switch n := len(f.stacks[t.userID]); {
	case n == 0:
		return nil, errorf("not_found", "no modal is open to push onto")
	case n >= maxViewStack:
		return nil, refuse("push_limit_reached")
	}
	if f.externalIDTakenLocked(def, "") {
		return nil, refuse("duplicate_external_id")
	}
	v := f.openViewLocked(t.userID, def, false)
	return object{"view": f.wireViewLocked(v)}, nil
}

func (f *Fake) viewsUpdate(r *apiRequest) (object, *apiError) {
	var v *view
	if id := r.get("view_id"); id != "" {
		v = f.views[id]
	} else if ext := r.get("external_id"); ext != "" {
		for _, x := range f.views {
			if x.def["external_id"] == ext {
				v = x
			}
		}
	} else {
		return nil, errorf("invalid_arguments", "view_id or external_id is required")
	}
	if v == nil {
		return nil, refuse("not_found")
	}
	if h := r.get("hash"); h != "" && h != v.hash {
		return nil, refuse("hash_conflict")
	}
	def, err := parseView(r.get("view"))
	if err != nil {
		return nil, err
	}
	if f.externalIDTakenLocked(def, v.id) {
		return nil, refuse("duplicate_external_id")
	}
	v.def = def
	v.hash = f.newHashLocked()
	v.errors = nil
	return object{"view": f.wireViewLocked(v)}, nil
}

// closeViewLocked closes a view and those pushed above it.
func (f *Fake) closeViewLocked(v *view) {
	stack := f.stacks[v.userID]
	i := slices.Index(stack, v.id)
	if i < 0 {
		return
	}
	for _, id := range stack[i:] {
		delete(f.views, id)
	}
	f.stacks[v.userID] = stack[:i]
}

// Views returns the modals open for a user, the root first.
func (f *Fake) Views(userID string) []View {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []View
	for _, id := range f.stacks[userID] {
		v := f.views[id]
		raw, _ := json.Marshal(f.wireViewLocked(v))
		str := func(k string) string { s, _ := v.def[k].(string); return s }
		out = append(out, View{
			ID:              v.id,
			UserID:          v.userID,
			CallbackID:      str("callback_id"),
			PrivateMetadata: str("private_metadata"),
			ExternalID:      str("external_id"),
			Title:           textOf(v.def["title"]),
			Hash:            v.hash,
			RootViewID:      v.rootID,
			PreviousViewID:  v.previousID,
			Errors:          maps.Clone(v.errors),
			JSON:            raw,
		})
	}
	return out
}

// topViewLocked finds, for op, the user and the user's view on top of its
// stack.
func (f *Fake) topViewLocked(op, userID, viewID string) (*User, *view, error) {
	u := f.users[userID]
	if u == nil {
		return nil, nil, fmt.Errorf("slackfake: %s: no user %s", op, userID)
	}
	v := f.views[viewID]
	if v == nil || v.userID != userID {
		return nil, nil, fmt.Errorf("slackfake: no modal %s is open for %s", viewID, userID)
	}
	stack := f.stacks[userID]
	if stack[len(stack)-1] != viewID {
		return nil, nil, fmt.Errorf("slackfake: modal %s of %s is under %s", viewID, userID, stack[len(stack)-1])
	}
	return u, v, nil
}

// SubmitView submits a user's open modal (the top of its stack) with values
// by block_id and action_id, typed after each input element: a
// plain_text_input gets value; static_select and radio_buttons the option
// with that value; checkboxes and multi_static_select the comma-separated
// option values; users_select selected_user; conversations_select,
// channels_select, datepicker and timepicker their selected_… field. The bot
// gets a view_submission payload; its ack applies response_action (errors,
// clear, update, push) or, with none, closes the modal.
func (f *Fake) SubmitView(userID, viewID string, values map[string]map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, v, err := f.topViewLocked("SubmitView", userID, viewID)
	if err != nil {
		return err
	}
	state, err := viewState(v.def, values)
	if err != nil {
		return err
	}
	v.state = state
	v.errors = nil
	payload := f.interaction("view_submission", u, object{
		"trigger_id":    f.issueTriggerLocked(userID),
		"view":          f.wireViewLocked(v),
		"response_urls": []any{},
	})
	f.enqueueInteractionLocked(payload, true, func(ack json.RawMessage) { f.applyViewResponseLocked(v, ack) })
	f.changedLocked()
	return nil
}

// applyViewResponseLocked does what Slack does with a view_submission's answer.
func (f *Fake) applyViewResponseLocked(v *view, ack json.RawMessage) {
	if f.views[v.id] != v {
		return // closed meanwhile
	}
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if ack != nil && json.Unmarshal(ack, &resp) != nil {
		return // Slack shows the user an error and keeps the modal
	}
	switch resp.ResponseAction {
	case "errors":
		v.errors = resp.Errors
	case "clear":
		if stack := f.stacks[v.userID]; len(stack) > 0 {
			f.closeViewLocked(f.views[stack[0]])
		}
	case "update":
		if def, err := parseView(string(resp.View)); err == nil {
			v.def, v.hash, v.errors = def, f.newHashLocked(), nil
		}
	case "push":
		if def, err := parseView(string(resp.View)); err == nil && len(f.stacks[v.userID]) < maxViewStack {
			f.openViewLocked(v.userID, def, false)
		}
	default:
		f.closeViewLocked(v)
	}
}

// CloseView closes a user's modal (the top of its stack) as its Close button
// does; the bot gets a view_closed payload if the view asked for it with
// notify_on_close.
func (f *Fake) CloseView(userID, viewID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, v, err := f.topViewLocked("CloseView", userID, viewID)
	if err != nil {
		return err
	}
	cleared := v.def["clear_on_close"] == true
	if v.def["notify_on_close"] == true {
		payload := f.interaction("view_closed", u, object{"view": f.wireViewLocked(v), "is_cleared": cleared})
		f.enqueueInteractionLocked(payload, false, nil)
	}
	if cleared {
		v = f.views[f.stacks[userID][0]]
	}
	f.closeViewLocked(v)
	f.changedLocked()
	return nil
}

// viewState builds view.state.values for a submission.
func viewState(def object, values map[string]map[string]string) (object, error) {
	blocks, _ := def["blocks"].([]any)
	inputs := inputsOf(blocks)
	known := map[string]map[string]bool{}
	state := object{}
	for _, in := range inputs {
		if known[in.blockID] == nil {
			known[in.blockID] = map[string]bool{}
		}
		known[in.blockID][in.actionID] = true
		raw, given := values[in.blockID][in.actionID]
		val, err := stateValue(in, raw, given)
		if err != nil {
			return nil, err
		}
		if state[in.blockID] == nil {
			state[in.blockID] = object{}
		}
		state[in.blockID].(object)[in.actionID] = val
	}
	for bid, actions := range values {
		for aid := range actions {
			if !known[bid][aid] {
				return nil, fmt.Errorf("slackfake: SubmitView: the view has no input block %q with action %q", bid, aid)
			}
		}
	}
	return state, nil
}

// stateValue types one input's value after its element, as Slack reports it.
func stateValue(in input, raw string, given bool) (object, error) {
	typ, _ := in.element["type"].(string)
	v := object{"type": typ}
	list := func() []string {
		if !given || raw == "" {
			return []string{}
		}
		return strings.Split(raw, ",")
	}
	single := func(field string) {
		if given && raw != "" {
			v[field] = raw
		} else {
			v[field] = nil
		}
	}
	switch typ {
	case "static_select", "radio_buttons", "external_select":
		v["selected_option"] = nil
		if given && raw != "" {
			opt, ok := findOption(in.element, raw)
			if !ok {
				return nil, fmt.Errorf("slackfake: SubmitView: %s has no option %q", in.blockID, raw)
			}
			v["selected_option"] = opt
		}
	case "checkboxes", "multi_static_select", "multi_external_select":
		opts := []any{}
		for _, val := range list() {
			opt, ok := findOption(in.element, val)
			if !ok {
				return nil, fmt.Errorf("slackfake: SubmitView: %s has no option %q", in.blockID, val)
			}
			opts = append(opts, opt)
		}
		v["selected_options"] = opts
	case "users_select":
		single("selected_user")
	case "multi_users_select":
		v["selected_users"] = list()
	case "conversations_select":
		single("selected_conversation")
	case "multi_conversations_select":
		v["selected_conversations"] = list()
	case "channels_select":
		single("selected_channel")
	case "multi_channels_select":
		v["selected_channels"] = list()
	case "datepicker":
		single("selected_date")
	case "timepicker":
		single("selected_time")
	default: // plain_text_input, number_input, email_text_input, url_text_input…
		single("value")
	}
	return v, nil
}

// findOption finds the option with value among an element's options and
// option_groups.
func findOption(el object, value string) (object, bool) {
	var opts []any
	if o, ok := el["options"].([]any); ok {
		opts = append(opts, o...)
	}
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if go_, ok := g.(object); ok {
				if o, ok := go_["options"].([]any); ok {
					opts = append(opts, o...)
				}
			}
		}
	}
	for _, o := range opts {
		if opt, ok := o.(object); ok && opt["value"] == value {
			return opt, true
		}
	}
	return nil, false
}
