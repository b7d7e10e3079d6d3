package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The upload flow of files, as slack-go's UploadFileContext runs it:
//
//  1. files.getUploadURLExternal {filename, length[, alt_txt, snippet_type]}
//     answers {upload_url, file_id};
//  2. a POST of the bytes to upload_url, raw or as multipart/form-data,
//     answered 200 "OK - <length>", or 4xx when the bytes are not the
//     length announced;
//  3. files.completeUploadExternal {files: [{id, title}], channel_id or
//     channels, initial_comment, thread_ts} shares the file: a message of
//     the bot with the file, initial_comment as its text; without a channel
//     the file stays private.
//
// Shapes and errors from Slack's method pages (files.getUploadURLExternal,
// files.completeUploadExternal). Unlike Slack, which shares the file a
// moment after completeUploadExternal answers, the fake shares it at once.

// maxUploadLength is the largest file Slack takes: 1 GB.
const maxUploadLength = 1 << 30

// Upload is a file uploaded through the external upload flow.
type Upload struct {
	FileID   string
	Filename string
	Title    string
	AltText  string
	Length   int    // announced by files.getUploadURLExternal
	Data     []byte // what was uploaded; nil until it was
	Complete bool   // files.completeUploadExternal took it
	// Shared lists where it was shared, as "channel/ts".
	Shared []string
}

// uploads is the state of the upload flow.
type uploads struct {
	byID    map[string]*Upload
	byToken map[string]string // upload URL token → file id
	order   []string
}

func (f *Fake) uploadsLocked() *uploads {
	if f.files == nil {
		f.files = &uploads{byID: map[string]*Upload{}, byToken: map[string]string{}}
	}
	return f.files
}

// Uploads returns every file uploaded, in the order their upload began.
func (f *Fake) Uploads() []Upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.uploadsLocked()
	out := make([]Upload, 0, len(u.order))
	for _, id := range u.order {
		up := *u.byID[id]
		up.Data, up.Shared = slices.Clone(up.Data), slices.Clone(up.Shared)
		out = append(out, up)
	}
	return out
}

func (f *Fake) filesGetUploadURLExternal(r *apiRequest) (object, *apiError) {
	name := r.get("filename")
	if strings.TrimSpace(name) == "" {
		return nil, errorf("invalid_arguments", "missing required field: filename")
	}
	raw := r.get("length")
	if raw == "" || raw == "0" {
		return nil, errorf("missing_argument", "missing required field: length")
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return nil, errorf("invalid_arguments", "length %q is not a number of bytes", raw)
	}
	if n > maxUploadLength {
		return nil, refuse("file_upload_size_restricted")
	}
	if utf8.RuneCountInString(r.get("alt_txt")) > 1000 {
		return nil, refuse("alt_txt_too_large")
	}
	u := f.uploadsLocked()
	id := f.idLocked("F")
	token := randomHex(12)
	u.byID[id] = &Upload{FileID: id, Filename: name, AltText: r.get("alt_txt"), Length: n}
	u.byToken[token] = id
	u.order = append(u.order, id)
	return object{"upload_url": f.baseURL + "/upload/v1/" + token, "file_id": id}, nil
}

// serveUpload takes the bytes of a file at its upload URL.
func (f *Fake) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := uploadedBytes(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.changedLocked()
	u := f.uploadsLocked()
	id, ok := u.byToken[strings.TrimPrefix(r.URL.Path, "/upload/v1/")]
	if !ok {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	up := u.byID[id]
	switch {
	case err != nil:
		http.Error(w, "unreadable upload: "+err.Error(), http.StatusBadRequest)
	case up.Data != nil || up.Complete:
		http.Error(w, "already uploaded", http.StatusBadRequest)
	case len(data) != up.Length:
		http.Error(w, fmt.Sprintf("size mismatch: %d bytes uploaded, %d announced", len(data), up.Length), http.StatusBadRequest)
	default:
		up.Data = data
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "OK - %d", len(data))
	}
}

// uploadedBytes reads an upload body: the first file part of a multipart
// form, or the raw body.
func uploadedBytes(r *http.Request) ([]byte, error) {
	body := io.LimitReader(r.Body, maxUploadLength+1)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return io.ReadAll(body)
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no file in the form")
		}
		if err != nil {
			return nil, err
		}
		if p.FileName() != "" {
			return io.ReadAll(p)
		}
	}
}

func (f *Fake) filesCompleteUploadExternal(r *apiRequest) (object, *apiError) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	raw := r.get("files")
	if raw == "" {
		return nil, errorf("invalid_arguments", "missing required field: files")
	}
	if err := json.Unmarshal([]byte(raw), &files); err != nil || len(files) == 0 {
		return nil, errorf("invalid_arguments", "files must be a JSON array of {id, title}")
	}
	u := f.uploadsLocked()
	var ups []*Upload
	for _, file := range files {
		up := u.byID[file.ID]
		switch {
		case up == nil || up.Complete:
			return nil, errorf("file_not_found", "no upload %q waiting to complete", file.ID)
		case up.Data == nil:
			return nil, errorf("file_not_found", "upload %q received no bytes", file.ID)
		}
		ups = append(ups, up)
	}
	var targets []string
	if c := r.get("channel_id"); c != "" {
		targets = append(targets, c)
	}
	for _, c := range strings.Split(r.get("channels"), ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(targets, c) {
			targets = append(targets, c)
		}
	}
	threadTS := r.get("thread_ts")
	if threadTS != "" && len(targets) != 1 {
		return nil, errorf("invalid_arguments", "thread_ts needs exactly one channel")
	}
	comment := r.get("initial_comment")
	if utf8.RuneCountInString(comment) > maxTextLength {
		return nil, refuse("msg_too_long")
	}
	// Every check before any change: a refused call shares nothing.
	var chans []*channel
	for _, id := range targets {
		ch, err := f.channelLocked(id)
		if err != nil {
			return nil, err
		}
		if !ch.members[f.opts.BotUserID] {
			return nil, refuse("not_in_channel")
		}
		if threadTS != "" {
			if parent := ch.byTS[threadTS]; parent == nil || parent.Deleted || (parent.ThreadTS != "" && parent.ThreadTS != parent.TS) {
				return nil, refuse("invalid_thread_ts")
			}
		}
		chans = append(chans, ch)
	}
	out := make([]object, len(ups))
	for i, up := range ups {
		up.Complete = true
		up.Title = files[i].Title
		if up.Title == "" {
			up.Title = up.Filename
		}
		out[i] = object{"id": up.FileID, "title": up.Title}
	}
	for _, ch := range chans {
		m := &message{appID: f.opts.AppID}
		m.Channel, m.TS, m.User, m.BotID, m.Text = ch.id, f.tsLocked(), f.opts.BotUserID, f.opts.BotID, comment
		for _, up := range ups {
			m.Files = append(m.Files, f.sharedFile(up))
			up.Shared = append(up.Shared, ch.id+"/"+m.TS)
		}
		if threadTS != "" {
			ch.byTS[threadTS].ThreadTS = threadTS
			m.ThreadTS = threadTS
		}
		ch.add(m)
		if !f.opts.DisableBotEcho {
			f.emitLocked(ch, f.wireLocked(ch, m, wireOptions{event: true}))
		}
	}
	return object{"files": out}, nil
}

// sharedFile is an uploaded file as a message shows it.
func (f *Fake) sharedFile(up *Upload) File {
	ext := path.Ext(up.Filename)
	mimetype, _, _ := strings.Cut(mime.TypeByExtension(ext), ";")
	if mimetype == "" {
		mimetype = "application/octet-stream"
	}
	return File{
		ID: up.FileID, Name: up.Filename, Title: up.Title, Mimetype: mimetype, Filetype: strings.TrimPrefix(ext, "."),
		URL: "https://files.slack.com/files-pri/" + f.opts.TeamID + "-" + up.FileID + "/" + up.Filename,
	}
}
