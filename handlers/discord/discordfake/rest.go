package discordfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type authKind int

const (
	authBot  authKind = iota // Authorization: Bot <token>
	authNone                 // webhook token or interaction token in the path
)

type handlerFunc func(f *Fake, rq *request) (int, any, *apiError)

type route struct {
	method       string
	pattern      string
	segs         []string
	auth         authKind
	exemptGlobal bool
	handle       handlerFunc
}

func (rt *route) key() string { return rt.method + " " + rt.pattern }

// request is a REST request after routing and body parsing.
type request struct {
	method  string
	version int    // 9 or 10, from the path
	path    string // API path without /api/v9
	params  map[string]string
	query   url.Values
	body    []byte // JSON body, or payload_json of a multipart body
	files   []Attachment
	header  http.Header
}

// decode parses the JSON body into v; Discord answers 50109 for malformed JSON and 50035 for
// values of the wrong type.
func (rq *request) decode(v any) *apiError {
	if len(bytes.TrimSpace(rq.body)) == 0 {
		return errInvalidJSON()
	}
	if err := json.Unmarshal(rq.body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			path := te.Field
			if path == "" {
				path = "_root"
			}
			return formError(path, "MODEL_TYPE_CONVERT", fmt.Sprintf("Value %q is not %s.", te.Value, te.Type))
		}
		return errInvalidJSON()
	}
	return nil
}

// decodeChecked parses the JSON body into a T and checks it as Discord does.
func decodeChecked[T any](rq *request, check func(*T) *apiError) (*T, *apiError) {
	v := new(T)
	if err := rq.decode(v); err != nil {
		return nil, err
	}
	if err := check(v); err != nil {
		return nil, err
	}
	return v, nil
}

// routes is the fake's routing table; literal segments (@me) come before placeholders.
var routes = buildRoutes()

func buildRoutes() []*route {
	var routes []*route
	add := func(method, pattern string, auth authKind, exemptGlobal bool, h handlerFunc) {
		routes = append(routes, &route{method, pattern, strings.Split(strings.Trim(pattern, "/"), "/"), auth, exemptGlobal, h})
	}
	add("GET", "/gateway", authNone, false, (*Fake).getGateway)
	add("GET", "/gateway/bot", authBot, false, (*Fake).getGatewayBot)
	add("GET", "/users/@me", authBot, false, (*Fake).getMe)
	add("POST", "/users/@me/channels", authBot, false, (*Fake).createDM)
	add("GET", "/users/{user.id}", authBot, false, (*Fake).getUser)
	add("GET", "/guilds/{guild.id}", authBot, false, (*Fake).getGuild)
	add("GET", "/guilds/{guild.id}/channels", authBot, false, (*Fake).getGuildChannels)
	add("GET", "/guilds/{guild.id}/roles", authBot, false, (*Fake).getGuildRoles)
	add("GET", "/guilds/{guild.id}/members", authBot, false, (*Fake).listGuildMembers)
	add("GET", "/guilds/{guild.id}/members/{user.id}", authBot, false, (*Fake).getGuildMember)
	add("GET", "/guilds/{guild.id}/threads/active", authBot, false, (*Fake).getActiveThreads)
	add("GET", "/channels/{channel.id}", authBot, false, (*Fake).getChannel)
	add("PATCH", "/channels/{channel.id}", authBot, false, (*Fake).editChannel)
	add("GET", "/channels/{channel.id}/messages", authBot, false, (*Fake).listMessages)
	add("POST", "/channels/{channel.id}/messages", authBot, false, (*Fake).createMessage)
	add("GET", "/channels/{channel.id}/messages/{message.id}", authBot, false, (*Fake).getMessage)
	add("PATCH", "/channels/{channel.id}/messages/{message.id}", authBot, false, (*Fake).editMessage)
	add("DELETE", "/channels/{channel.id}/messages/{message.id}", authBot, false, (*Fake).deleteMessage)
	add("POST", "/channels/{channel.id}/messages/{message.id}/threads", authBot, false, (*Fake).startThreadFromMessage)
	add("POST", "/channels/{channel.id}/threads", authBot, false, (*Fake).startThread)
	add("GET", "/channels/{channel.id}/threads/archived/public", authBot, false, (*Fake).listArchivedThreads)
	add("POST", "/channels/{channel.id}/typing", authBot, false, (*Fake).typing)
	add("GET", "/channels/{channel.id}/webhooks", authBot, false, (*Fake).listWebhooks)
	add("POST", "/channels/{channel.id}/webhooks", authBot, false, (*Fake).createWebhook)
	add("GET", "/webhooks/{webhook.id}", authBot, false, (*Fake).getWebhook)
	add("DELETE", "/webhooks/{webhook.id}", authBot, false, (*Fake).deleteWebhook)
	add("GET", "/webhooks/{webhook.id}/{webhook.token}", authNone, true, (*Fake).getWebhookWithToken)
	add("POST", "/webhooks/{webhook.id}/{webhook.token}", authNone, true, (*Fake).executeWebhook)
	add("GET", "/webhooks/{webhook.id}/{webhook.token}/messages/{message.id}", authNone, true, (*Fake).getWebhookMessage)
	add("PATCH", "/webhooks/{webhook.id}/{webhook.token}/messages/{message.id}", authNone, true, (*Fake).editWebhookMessage)
	add("DELETE", "/webhooks/{webhook.id}/{webhook.token}/messages/{message.id}", authNone, true, (*Fake).deleteWebhookMessage)
	add("POST", "/interactions/{interaction.id}/{interaction.token}/callback", authNone, true, (*Fake).interactionCallback)
	add("GET", "/applications/@me", authBot, false, (*Fake).getCurrentApplication)
	add("GET", "/applications/{application.id}/commands", authBot, false, (*Fake).listCommands)
	add("PUT", "/applications/{application.id}/commands", authBot, false, (*Fake).overwriteCommands)
	add("POST", "/applications/{application.id}/commands", authBot, false, (*Fake).createCommand)
	add("GET", "/applications/{application.id}/commands/{command.id}", authBot, false, (*Fake).getCommand)
	add("PATCH", "/applications/{application.id}/commands/{command.id}", authBot, false, (*Fake).editCommand)
	add("DELETE", "/applications/{application.id}/commands/{command.id}", authBot, false, (*Fake).deleteCommand)
	add("GET", "/applications/{application.id}/guilds/{guild.id}/commands", authBot, false, (*Fake).listCommands)
	add("PUT", "/applications/{application.id}/guilds/{guild.id}/commands", authBot, false, (*Fake).overwriteCommands)
	add("POST", "/applications/{application.id}/guilds/{guild.id}/commands", authBot, false, (*Fake).createCommand)
	add("GET", "/applications/{application.id}/guilds/{guild.id}/commands/{command.id}", authBot, false, (*Fake).getCommand)
	add("PATCH", "/applications/{application.id}/guilds/{guild.id}/commands/{command.id}", authBot, false, (*Fake).editCommand)
	add("DELETE", "/applications/{application.id}/guilds/{guild.id}/commands/{command.id}", authBot, false, (*Fake).deleteCommand)
	return routes
}

// RouteKeys lists the routes the fake serves, as keys for SetRouteLimit.
func RouteKeys() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.key()
	}
	return out
}

// match finds the route for a path. A path that exists under another method gives
// methodMismatch.
func match(method, apiPath string) (rt *route, params map[string]string, methodMismatch bool) {
	segs := strings.Split(strings.Trim(apiPath, "/"), "/")
	for _, r := range routes {
		if len(r.segs) != len(segs) {
			continue
		}
		p := map[string]string{}
		ok := true
		for i, s := range r.segs {
			if strings.HasPrefix(s, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				p[strings.Trim(s, "{}")] = segs[i]
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if r.method != method {
			methodMismatch = true
			continue
		}
		return r, p, false
	}
	return nil, nil, methodMismatch
}

var apiPrefix = regexp.MustCompile(`^/api/v(9|10)(/.*)$`)

// maxBody is Discord's upload limit for bots without boosts.
const maxBody = 25 << 20

// ServeHTTP serves the REST API under /api/v9 (and /api/v10), the gateway at /gateway and a
// stand-in CDN for requests the Transport rewrote from cdn.discordapp.com.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch host := r.Header.Get(hostHeader); {
	case strings.Contains(host, "cdn.") || strings.Contains(host, "media.") || strings.Contains(host, "images-ext"):
		f.serveCDN(w, r)
		return
	case r.URL.Path == "/gateway" || r.URL.Path == "/gateway/":
		f.serveGateway(w, r)
		return
	}
	m := apiPrefix.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeJSON(w, http.StatusNotFound, statusError(http.StatusNotFound).body())
		return
	}
	version := 9
	if m[1] == "10" {
		version = 10
	}
	f.serveREST(w, r, version, m[2])
}

// onePixelPNG is served for every CDN path.
var onePixelPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func (f *Fake) serveCDN(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(onePixelPNG)))
	_, _ = w.Write(onePixelPNG)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"500: Internal Server Error","code":0}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readBody reads a JSON or multipart/form-data body. For multipart, payload_json becomes the
// body and files[n] parts become attachments.
func readBody(r *http.Request) ([]byte, []Attachment, *apiError) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, nil, errBadRequest(0)
	}
	if len(raw) > maxBody {
		return nil, nil, codeError(http.StatusRequestEntityTooLarge, 40005)
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return raw, nil, nil
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	var body []byte
	var files []Attachment
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, errInvalidJSON()
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, errInvalidJSON()
		}
		switch name := p.FormName(); {
		case name == "payload_json":
			body = data
		case strings.HasPrefix(name, "files[") || name == "file":
			ct := p.Header.Get("Content-Type")
			// ID is the n of files[n] until the message gives it its own.
			files = append(files, Attachment{ID: strings.TrimSuffix(strings.TrimPrefix(name, "files["), "]"), Filename: p.FileName(), ContentType: ct, Size: len(data), data: data})
		}
	}
	return body, files, nil
}

func (f *Fake) serveREST(w http.ResponseWriter, r *http.Request, version int, apiPath string) {
	body, files, berr := readBody(r)
	status, hdr, payload, drop := f.handleREST(r, version, apiPath, body, files, berr)
	if drop != 0 {
		f.drop(w, r, drop)
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if payload == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

// handleREST runs one request under the fake's lock and returns the response to write.
// A drop other than 0 says the answer is not to be sent (see Fault.Drop).
func (f *Fake) handleREST(r *http.Request, version int, apiPath string, body []byte, files []Attachment, berr *apiError) (status int, hdr http.Header, payload []byte, drop Drop) {
	hdr = http.Header{}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()

	rt, params, methodMismatch := match(r.Method, apiPath)
	var (
		resp    any
		blocked bool // answered by the invalid-request block, which counts nothing
	)
	defer func() {
		if resp != nil {
			b, err := json.Marshal(resp)
			if err != nil {
				status, b = http.StatusInternalServerError, []byte(`{"message":"500: Internal Server Error","code":0}`)
			}
			payload = b
		}
		if status == http.StatusTooManyRequests {
			f.rateLimited++
		}
		if !blocked && (status == http.StatusUnauthorized || status == http.StatusForbidden ||
			(status == http.StatusTooManyRequests && hdr.Get("X-RateLimit-Scope") != "shared")) {
			f.countInvalidLocked(now)
		}
		c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: status, At: f.now(), Dropped: drop != 0}
		if rt != nil {
			c.Route = rt.key()
		}
		f.calls = append(f.calls, c)
		f.notifyLocked()
	}()

	fail := func(e *apiError) {
		status, resp = e.status, e.body()
	}
	if f.closed {
		fail(statusError(http.StatusServiceUnavailable))
		return
	}
	if now.Before(f.blockedUntil) {
		blocked = true
		retry := f.blockedUntil.Sub(now)
		hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		status, resp = http.StatusTooManyRequests, blockedBody(retry)
		return
	}
	if rt == nil {
		if methodMismatch {
			fail(statusError(http.StatusMethodNotAllowed))
		} else {
			fail(statusError(http.StatusNotFound))
		}
		return
	}
	h := f.limits.take(rt.key(), resourceOf(params), rt.exemptGlobal, now)
	h.set(hdr, now)
	if h.retryAfter > 0 {
		status, resp = http.StatusTooManyRequests, rateLimitedBody(h.retryAfter, h.global)
		return
	}
	if rt.auth == authBot && r.Header.Get("Authorization") != "Bot "+f.token {
		fail(statusError(http.StatusUnauthorized))
		return
	}
	ft := f.takeFault(r.Method, apiPath)
	if ft != nil && ft.Drop != 0 {
		drop = ft.Drop
		if !ft.Applied {
			return
		}
		ft = nil // carried out below; its answer is dropped
	}
	if ft != nil {
		if ft.Status == http.StatusTooManyRequests {
			h := rlHeaders{limit: h.limit, reset: now.Add(ft.RetryAfter), bucket: h.bucket, retryAfter: ft.RetryAfter, global: ft.Global}
			for k := range hdr {
				delete(hdr, k)
			}
			h.set(hdr, now)
			status, resp = http.StatusTooManyRequests, rateLimitedBody(ft.RetryAfter, ft.Global)
			return
		}
		msg := ft.Message
		if msg == "" {
			msg = knownCodes[ft.Code]
		}
		if msg == "" {
			msg = fmt.Sprintf("%d: %s", ft.Status, http.StatusText(ft.Status))
		}
		fail(&apiError{status: ft.Status, code: ft.Code, message: msg})
		return
	}
	if berr != nil {
		fail(berr)
		return
	}
	rq := &request{method: r.Method, version: version, path: apiPath, params: params, query: r.URL.Query(), body: body, files: files, header: r.Header}
	st, out, aerr := rt.handle(f, rq)
	if aerr != nil {
		fail(aerr)
		return
	}
	status, resp = st, out
	if st == http.StatusNoContent {
		resp = nil
	}
	return
}

// drop leaves a request unanswered: it holds it until the client gives up
// or the fake closes (DropHang), or resets the connection (DropReset).
// Either way the connection is closed, so that the client never reuses it.
func (f *Fake) drop(w http.ResponseWriter, r *http.Request, d Drop) {
	if d == DropHang {
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("discordfake: the server's ResponseWriter cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && d == DropReset {
		_ = tc.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// resourceOf is the top-level resource a route's rate limit is counted against.
func resourceOf(p map[string]string) string {
	switch {
	case p["webhook.id"] != "":
		return p["webhook.id"] + "/" + p["webhook.token"]
	case p["interaction.id"] != "":
		return p["interaction.id"]
	case p["channel.id"] != "":
		return p["channel.id"]
	case p["guild.id"] != "":
		return p["guild.id"]
	}
	return ""
}

// queryBool reads a Discord boolean query parameter ("true", "True", "1").
func queryBool(q url.Values, key string) bool {
	switch strings.ToLower(q.Get(key)) {
	case "true", "1":
		return true
	}
	return false
}
