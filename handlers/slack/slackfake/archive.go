package slackfake

import "fmt"

// Archive archives a channel, as someone in the workspace would
// (conversations.archive): conversations.info then says is_archived, and
// chat.postMessage and chat.postEphemeral refuse with is_archived, as
// their method pages list. Its history stays readable; chat.update and
// chat.delete are not refused (not modelled).
func (f *Fake) Archive(channelID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[channelID]
	if ch == nil {
		return fmt.Errorf("slackfake: Archive: no channel %q", channelID)
	}
	ch.archived = true
	f.changedLocked()
	return nil
}
