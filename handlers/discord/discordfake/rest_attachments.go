package discordfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Files uploaded with a message: multipart/form-data with payload_json and
// files[n] parts, as discordgo's MultipartBodyWithJSON writes it
// (https://discord.com/developers/docs/reference#uploading-files). The
// payload's attachments array describes the files by n; an embed shows one
// with the URL attachment://<filename>.

// Discord's limits on uploads.
const (
	maxFiles                 = 10
	maxAttachmentDescription = 1024
)

// uploadMeta is an entry of payload_json's attachments.
type uploadMeta struct {
	ID          json.RawMessage `json:"id"`
	Filename    string          `json:"filename"`
	Description string          `json:"description"`
}

// id reads an attachment id, a number or a string.
func (u uploadMeta) id() string { return strings.Trim(string(u.ID), `"`) }

// checkUploads refuses what Discord refuses of a message's files: more than
// ten, a file part without a file name, an attachment entry that names no
// uploaded file, or an alt text too long.
func checkUploads(p *msgPayload, files []Attachment) *apiError {
	var fe formErrors
	if len(files) > maxFiles {
		fe.add("files", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxFiles))
	}
	for i, a := range files {
		if strings.TrimSpace(a.Filename) == "" {
			fe.add(fmt.Sprintf("files[%d]", i), "BASE_TYPE_REQUIRED", "This field is required")
		}
	}
	for i, raw := range p.Attachments {
		var u uploadMeta
		if err := json.Unmarshal(raw, &u); err != nil {
			fe.add(fmt.Sprintf("attachments.%d", i), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
			continue
		}
		id := u.id()
		if !slices.ContainsFunc(files, func(a Attachment) bool { return a.ID == id }) {
			fe.add(fmt.Sprintf("attachments.%d.id", i), "ATTACHMENT_NOT_FOUND", fmt.Sprintf("Attachment %s does not exist.", id))
		}
		if utf8.RuneCountInString(u.Description) > maxAttachmentDescription {
			fe.add(fmt.Sprintf("attachments.%d.description", i), "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxAttachmentDescription))
		}
	}
	return fe.err()
}

// describeUploads gives the new message's attachments (made from files, in
// order) their alt texts, and points the embeds that show one of them at
// its URL, as Discord does.
func describeUploads(m *message, p *msgPayload, files []Attachment) {
	for _, raw := range p.Attachments {
		var u uploadMeta
		if json.Unmarshal(raw, &u) != nil {
			continue
		}
		for i, a := range files {
			if a.ID == u.id() && i < len(m.Attachments) {
				m.Attachments[i].Description = u.Description
			}
		}
	}
	resolve := func(media *EmbedMedia) *EmbedMedia {
		name, ok := strings.CutPrefix(mediaURL(media), "attachment://")
		if !ok {
			return media
		}
		for _, a := range m.Attachments {
			if a.Filename == name {
				return &EmbedMedia{URL: a.URL}
			}
		}
		return nil // Discord shows no image for a file that is not there
	}
	for i := range m.Embeds {
		m.Embeds[i].Image = resolve(m.Embeds[i].Image)
		m.Embeds[i].Thumbnail = resolve(m.Embeds[i].Thumbnail)
	}
}

func mediaURL(m *EmbedMedia) string {
	if m == nil {
		return ""
	}
	return m.URL
}

// AttachmentData returns the bytes uploaded as the attachment at url (its
// URL on a message), and whether there is one.
func (f *Fake) AttachmentData(url string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.messages {
		for _, a := range m.Attachments {
			if a.URL == url && a.data != nil {
				return slices.Clone(a.data), true
			}
		}
	}
	return nil, false
}
