package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Call is one Web API call the fake answered.
type Call struct {
	Method    string
	Params    url.Values // the arguments but the token; JSON objects and arrays kept as JSON text
	TokenType string     // "bot", "app", or "" when missing or wrong
	Error     string     // Slack's error code, "" when ok
	Status    int        // HTTP status of the answer
	At        time.Time
}

// apiRequest is a parsed Web API request.
type apiRequest struct {
	method    string
	params    url.Values
	token     string
	tokenType string
	json      bool
}

func (r *apiRequest) get(name string) string { return r.params.Get(name) }

func (r *apiRequest) bool(name string) bool {
	switch r.get(name) {
	case "1", "true":
		return true
	}
	return false
}

// apiError is a refusal: {"ok":false,"error":code,…} with an HTTP status.
type apiError struct {
	code       string
	status     int      // 0 means 200, as Slack answers most errors
	retryAfter int      // seconds, with 429
	extra      object   // more fields, e.g. needed/provided
	warnings   []string // response_metadata.messages
}

func (e *apiError) Error() string { return e.code }

func refuse(code string) *apiError { return &apiError{code: code} }

// method describes one Web API method.
type method struct {
	token string // "bot" or "app": the token type it takes
	scope string // a scope it needs always, "" when none or when it depends
	run   func(f *Fake, r *apiRequest) (object, *apiError)
}

// methods is the table of supported Web API methods.
func methods() map[string]method {
	return map[string]method{
		"api.test":                       {run: (*Fake).apiTest},
		"auth.test":                      {token: "bot", run: (*Fake).authTest},
		"apps.connections.open":          {token: "app", run: (*Fake).appsConnectionsOpen},
		"chat.postMessage":               {token: "bot", scope: "chat:write", run: (*Fake).chatPostMessage},
		"chat.update":                    {token: "bot", scope: "chat:write", run: (*Fake).chatUpdate},
		"chat.delete":                    {token: "bot", scope: "chat:write", run: (*Fake).chatDelete},
		"chat.postEphemeral":             {token: "bot", scope: "chat:write", run: (*Fake).chatPostEphemeral},
		"chat.getPermalink":              {token: "bot", run: (*Fake).chatGetPermalink},
		"conversations.history":          {token: "bot", run: (*Fake).conversationsHistory},
		"conversations.replies":          {token: "bot", run: (*Fake).conversationsReplies},
		"conversations.info":             {token: "bot", run: (*Fake).conversationsInfo},
		"conversations.join":             {token: "bot", scope: "channels:join", run: (*Fake).conversationsJoin},
		"users.info":                     {token: "bot", scope: "users:read", run: (*Fake).usersInfo},
		"usergroups.users.list":          {token: "bot", scope: "usergroups:read", run: (*Fake).usergroupsUsersList},
		"reactions.add":                  {token: "bot", scope: "reactions:write", run: (*Fake).reactionsAdd},
		"views.open":                     {token: "bot", run: (*Fake).viewsOpen},
		"views.push":                     {token: "bot", run: (*Fake).viewsPush},
		"views.update":                   {token: "bot", run: (*Fake).viewsUpdate},
		"views.publish":                  {token: "bot", run: (*Fake).viewsPublish},
		"apps.event.authorizations.list": {token: "app", run: (*Fake).appsEventAuthorizationsList},
		"files.getUploadURLExternal":     {token: "bot", scope: "files:write", run: (*Fake).filesGetUploadURLExternal},
		"files.completeUploadExternal":   {token: "bot", scope: "files:write", run: (*Fake).filesCompleteUploadExternal},
	}
}

// routes is the fake's HTTP surface.
func (f *Fake) routes() http.Handler {
	table := methods()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { f.serveAPI(w, r, table) })
	mux.HandleFunc("/link/", f.serveSocket)
	mux.HandleFunc("/actions/", f.serveResponseURL)
	mux.HandleFunc("/commands/", f.serveResponseURL)
	mux.HandleFunc("/upload/v1/", f.serveUpload)
	return f.tracked(mux)
}

// tracked makes Close wait for the handler, and refuses requests once closing.
func (f *Fake) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			http.Error(w, "closing", http.StatusServiceUnavailable)
			return
		}
		f.wg.Add(1)
		f.mu.Unlock()
		defer f.wg.Done()
		h.ServeHTTP(w, r)
	})
}

func (f *Fake) serveAPI(w http.ResponseWriter, r *http.Request, table map[string]method) {
	name := strings.TrimPrefix(r.URL.Path, "/api/")
	req, perr := parseAPIRequest(r)
	if req == nil {
		req = &apiRequest{params: url.Values{}}
	}
	req.method = name

	f.mu.Lock()
	var (
		body object
		aerr = perr
	)
	if aerr == nil {
		body, aerr = f.callLocked(table, req)
	}
	status := http.StatusOK
	header := http.Header{}
	if req.tokenType == "bot" {
		header.Set("X-OAuth-Scopes", strings.Join(f.opts.Scopes, ","))
		header.Set("X-Accepted-OAuth-Scopes", table[name].scope)
	}
	if aerr != nil {
		body = object{"ok": false, "error": aerr.code}
		for k, v := range aerr.extra {
			body[k] = v
		}
		if len(aerr.warnings) > 0 {
			body["response_metadata"] = object{"messages": aerr.warnings}
		}
		if aerr.status != 0 {
			status = aerr.status
		}
		if aerr.retryAfter > 0 {
			header.Set("Retry-After", strconv.Itoa(aerr.retryAfter))
		}
	} else {
		body["ok"] = true
	}
	params := cloneValues(req.params)
	params.Del("token")
	call := Call{Method: name, Params: params, TokenType: req.tokenType, Status: status, At: f.now()}
	if aerr != nil {
		call.Error = aerr.code
	}
	f.calls = append(f.calls, call)
	delay := pop(f.delayNext, name)
	f.changedLocked()
	f.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-f.ctx.Done():
			t.Stop()
			return
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	writeJSON(w, status, body)
}

// callLocked authenticates the request and runs the method.
func (f *Fake) callLocked(table map[string]method, r *apiRequest) (object, *apiError) {
	m, ok := table[r.method]
	if !ok {
		return nil, &apiError{code: "unknown_method", extra: object{"req_method": r.method}}
	}
	if m.token != "" {
		switch r.token {
		case "":
			return nil, refuse("not_authed")
		case f.opts.BotToken:
			r.tokenType = "bot"
		case f.opts.AppToken:
			r.tokenType = "app"
		default:
			return nil, refuse("invalid_auth")
		}
		if r.tokenType != m.token {
			return nil, refuse("not_allowed_token_type")
		}
	}
	if code, ok := popString(f.failNext, r.method); ok {
		if code == "ratelimited" {
			return nil, ratelimited(1)
		}
		return nil, refuse(code)
	}
	if err := f.methodLimitLocked(r.method); err != nil {
		return nil, err
	}
	if m.scope != "" {
		if err := f.needScopeLocked(m.scope); err != nil {
			return nil, err
		}
	}
	return m.run(f, r)
}

// needScopeLocked refuses with missing_scope unless the bot has scope.
func (f *Fake) needScopeLocked(scope string) *apiError {
	if f.scopes[scope] {
		return nil
	}
	return &apiError{code: "missing_scope", extra: object{"needed": scope, "provided": strings.Join(f.opts.Scopes, ",")}}
}

// parseAPIRequest reads the arguments from the query, a form body or a JSON
// body, and the token from the "token" argument or the Authorization header.
// Like Slack, a JSON body's token must come in the header.
func parseAPIRequest(r *http.Request) (*apiRequest, *apiError) {
	req := &apiRequest{params: url.Values{}}
	for k, v := range r.URL.Query() {
		req.params[k] = v
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		req.json = true
		data, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return req, refuse("invalid_form_data")
		}
		if body := strings.TrimSpace(string(data)); body != "" && body != "null" {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(data, &fields); err != nil {
				return req, refuse("invalid_json")
			}
			for k, raw := range fields {
				var s string
				if json.Unmarshal(raw, &s) == nil {
					req.params.Set(k, s)
				} else {
					req.params.Set(k, string(raw))
				}
			}
		}
		req.params.Del("token") // not accepted in a JSON body
	case "multipart/form-data":
		if err := r.ParseMultipartForm(4 << 20); err != nil {
			return req, refuse("invalid_form_data")
		}
		for k, v := range r.MultipartForm.Value {
			req.params[k] = v
		}
	default:
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				return req, refuse("invalid_form_data")
			}
			for k, v := range r.PostForm {
				req.params[k] = v
			}
		}
	}
	req.token = req.params.Get("token")
	if req.token == "" {
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			req.token = strings.TrimSpace(bearer)
		}
	}
	return req, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func pop[T any](m map[string][]T, key string) T {
	v, _ := popOK(m, key)
	return v
}

func popString(m map[string][]string, key string) (string, bool) { return popOK(m, key) }

func popOK[T any](m map[string][]T, key string) (T, bool) {
	var zero T
	q := m[key]
	if len(q) == 0 {
		return zero, false
	}
	m[key] = q[1:]
	return q[0], true
}

// FailNext makes the next call of method fail with errCode, after the token
// check and before any limit. "ratelimited" answers 429 with Retry-After: 1.
// Calls queue up.
func (f *Fake) FailNext(method, errCode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[method] = append(f.failNext[method], errCode)
}

// DelayNext holds the answer to the next call of method for d. The call takes
// effect at once: a client that gives up early leaves a posted message behind,
// as with real Slack when the outcome of a call is unknown.
func (f *Fake) DelayNext(method string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delayNext[method] = append(f.delayNext[method], d)
}

// apiTest echoes its arguments, like api.test.
func (f *Fake) apiTest(r *apiRequest) (object, *apiError) {
	if e := r.get("error"); e != "" {
		return nil, refuse(e)
	}
	args := object{}
	for k := range r.params {
		if k != "token" {
			args[k] = r.get(k)
		}
	}
	return object{"args": args}, nil
}

func (f *Fake) authTest(*apiRequest) (object, *apiError) {
	return object{
		"url":                   "https://" + f.opts.TeamDomain + ".slack.com/",
		"team":                  f.opts.TeamName,
		"user":                  f.opts.BotName,
		"team_id":               f.opts.TeamID,
		"user_id":               f.opts.BotUserID,
		"bot_id":                f.opts.BotID,
		"is_enterprise_install": false,
	}, nil
}

func (f *Fake) appsEventAuthorizationsList(r *apiRequest) (object, *apiError) {
	if r.get("event_context") == "" {
		return nil, refuse("invalid_event_context")
	}
	return object{"authorizations": []object{f.authorization()}}, nil
}

func (f *Fake) authorization() object {
	return object{
		"enterprise_id":         nil,
		"team_id":               f.opts.TeamID,
		"user_id":               f.opts.BotUserID,
		"is_bot":                true,
		"is_enterprise_install": false,
	}
}

// errorf is a debugging aid for refusals that carry a reason.
func errorf(code, format string, args ...any) *apiError {
	return &apiError{code: code, warnings: []string{fmt.Sprintf("[ERROR] "+format, args...)}}
}
