package discordfake

import (
	"encoding/json"
	"net/http"
)

// Permission bits only the channel edit checks.
const (
	permManageChannels int64 = 1 << 4
	permManageThreads  int64 = 1 << 34
)

// errThreadArchived is Discord's answer to an edit of an archived thread that does not
// unarchive it.
func errThreadArchived() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 50083, message: "Thread is archived"}
}

// channelEditPayload is the part of PATCH /channels/{id} the fake applies
// (https://discord.com/developers/docs/resources/channel#modify-channel): a name, and for
// threads archived, locked and auto_archive_duration. Other fields are ignored.
type channelEditPayload struct {
	Name                *string `json:"name"`
	Archived            *bool   `json:"archived"`
	Locked              *bool   `json:"locked"`
	AutoArchiveDuration *int    `json:"auto_archive_duration"`
}

// threadStateFields are what an archived thread lets change without unarchiving it.
var threadStateFields = map[string]bool{"archived": true, "locked": true}

func validateChannelEdit(p *channelEditPayload) *apiError {
	var fe formErrors
	if p.Name != nil {
		lengthBetween(&fe, "name", *p.Name, 1, 100)
	}
	if p.AutoArchiveDuration != nil {
		switch *p.AutoArchiveDuration {
		case 60, 1440, 4320, 10080:
		default:
			fe.add("auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.")
		}
	}
	if p.Locked != nil && *p.Locked {
		// Threads here are never locked (thread_metadata.locked is false).
		fe.add("locked", "BASE_TYPE_CHOICES", "discordfake: locked threads are not modelled.")
	}
	return fe.err()
}

// editChannel is PATCH /channels/{channel.id}: a thread needs the bot to own it or
// MANAGE_THREADS, another guild channel MANAGE_CHANNELS. An archived thread refuses any
// change but archived and locked (50083) unless the same request unarchives it. It
// dispatches THREAD_UPDATE (a thread) or CHANNEL_UPDATE and returns the channel.
func (f *Fake) editChannel(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	if c.Type == ChannelDM {
		return 0, nil, errBadRequest(50024)
	}
	p, err := decodeChecked(rq, validateChannelEdit)
	if err != nil {
		return 0, nil, err
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(rq.body, &keys) // the body decoded above, so it is an object or null
	thread := c.Type.IsThread()
	if thread {
		if c.OwnerID != f.bot.ID {
			if err := f.require(c, permManageThreads); err != nil {
				return 0, nil, err
			}
		}
		unarchives := p.Archived != nil && !*p.Archived
		if c.archived && !unarchives {
			for k := range keys {
				if !threadStateFields[k] {
					return 0, nil, errThreadArchived()
				}
			}
		}
	} else if err := f.require(c, permManageChannels); err != nil {
		return 0, nil, err
	}

	changed := false
	if p.Name != nil && *p.Name != c.Name {
		c.Name, changed = *p.Name, true
	}
	if thread {
		if p.Archived != nil && *p.Archived != c.archived {
			c.archived, c.archivedAt, changed = *p.Archived, f.now(), true
		}
		if p.AutoArchiveDuration != nil && *p.AutoArchiveDuration != c.autoArchive {
			c.autoArchive, changed = *p.AutoArchiveDuration, true
		}
	}
	if changed {
		if thread {
			f.dispatchThreadUpdate(c)
		} else {
			f.dispatchChannelUpdate(c)
		}
	}
	return http.StatusOK, f.wireChannel(c), nil
}

// dispatchChannelUpdate sends CHANNEL_UPDATE for a guild channel that changed. Callers hold
// f.mu.
func (f *Fake) dispatchChannelUpdate(c *channelState) {
	f.broadcast("CHANNEL_UPDATE", func(s *gwSession) (any, bool) {
		if s.intents&IntentGuilds == 0 {
			return nil, false
		}
		return f.wireChannel(c), true
	})
	f.notifyLocked()
}
