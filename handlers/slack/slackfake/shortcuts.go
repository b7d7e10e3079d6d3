package slackfake

import "fmt"

// MessageShortcut runs, as userID, the app's message shortcut callbackID on
// the message at ts in a channel, as Slack does when someone picks the
// shortcut in the message's menu: the bot gets a message_action payload
// (https://api.slack.com/reference/interaction-payloads/shortcuts) with the
// callback_id, a fresh trigger_id (3 s, once), a response_url for that user
// in that channel, message_ts, action_ts, the channel, the user, the team and
// the whole message as a channel history shows it, over Socket Mode (an
// interactive envelope) or HTTP mode (the form field payload=<json>). The
// user must be a member of the channel; the bot need not be, as on Slack.
// Like every interaction it is never sent again: unanswered within 3 s, its
// Delivery is Failed.
func (f *Fake) MessageShortcut(userID, channelID, ts, callbackID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ch, err := f.memberLocked("MessageShortcut", userID, channelID)
	if err != nil {
		return err
	}
	if callbackID == "" {
		return fmt.Errorf("slackfake: MessageShortcut: no callback_id")
	}
	m := ch.byTS[ts]
	if m == nil || m.Deleted {
		return fmt.Errorf("slackfake: MessageShortcut: no message %s in %s", ts, channelID)
	}
	payload := f.interaction("message_action", u, object{
		"callback_id":  callbackID,
		"trigger_id":   f.issueTriggerLocked(userID),
		"response_url": f.responseURLLocked("actions", userID, ch.id, ts, m.ThreadTS, false),
		"message_ts":   ts,
		"action_ts":    f.tsLocked(),
		"channel":      object{"id": ch.id, "name": ch.name},
		"message":      f.wireLocked(ch, m, wireOptions{}),
	})
	f.enqueueInteractionLocked(payload, false, nil)
	f.changedLocked()
	return nil
}
