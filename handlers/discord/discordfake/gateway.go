package discordfake

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway close codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes).
const (
	closeUnknownError         = 4000
	closeUnknownOpcode        = 4001
	closeDecodeError          = 4002
	closeNotAuthenticated     = 4003
	closeAuthenticationFailed = 4004
	closeAlreadyAuthenticated = 4005
	closeInvalidShard         = 4010
	closeInvalidAPIVersion    = 4012
	closeInvalidIntents       = 4013
	closeDisallowedIntents    = 4014
)

// maxSessionLog bounds the dispatches kept for replay on Resume.
const maxSessionLog = 10000

type gwEvent struct {
	seq      int64
	frame    []byte
	noReplay bool
}

type gwSession struct {
	id       string
	version  int
	intents  int64
	compress bool
	shard    []int
	seq      int64
	log      []gwEvent
	conn     *gwConn
}

type outFrame struct {
	data      []byte
	binary    bool
	closeCode int // > 0: write a close frame and stop writing
	closeText string
}

// gwConn is one websocket connection: the handler goroutine reads, writeLoop writes what the
// fake queues, so dispatching never blocks on the network while f.mu is held.
type gwConn struct {
	f       *Fake
	ws      *websocket.Conn
	version int

	qmu   sync.Mutex
	queue []outFrame
	wake  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Guarded by f.mu.
	session    *gwSession
	closing    bool
	heartbeats int
}

func (c *gwConn) enqueue(fr outFrame) {
	c.qmu.Lock()
	c.queue = append(c.queue, fr)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// abort closes the connection without a close frame, as a network failure would.
func (c *gwConn) abort() {
	c.once.Do(func() { close(c.done) })
	_ = c.ws.Close()
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
}

func (f *Fake) serveGateway(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed || !websocket.IsWebSocketUpgrade(r) {
		writeJSON(w, http.StatusBadRequest, obj{"message": "400: Bad Request", "code": 0})
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		f.log.Debug("discordfake: gateway upgrade", "err", err)
		return
	}
	c := &gwConn{f: f, ws: ws, version: 9, wake: make(chan struct{}, 1), done: make(chan struct{})}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		_ = ws.Close()
		return
	}
	f.conns[c] = struct{}{}
	f.wg.Add(2)
	f.mu.Unlock()
	go c.writeLoop()
	defer f.wg.Done()

	q := r.URL.Query()
	f.mu.Lock()
	switch v := q.Get("v"); v {
	case "", "9":
	case "10":
		c.version = 10
	default:
		f.closeConnLocked(c, closeInvalidAPIVersion, "Invalid API version.")
	}
	if enc := q.Get("encoding"); enc != "" && enc != "json" {
		f.closeConnLocked(c, closeDecodeError, "Error while decoding payload.")
	}
	if !c.closing {
		c.enqueue(outFrame{data: mustJSON(obj{"op": 10, "d": obj{"heartbeat_interval": f.opts.HeartbeatInterval.Milliseconds(), "_trace": trace()}, "s": nil, "t": nil})})
	}
	f.mu.Unlock()
	c.readLoop()
}

func trace() []string { return []string{`["discordfake",{"micros":0}]`} }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("discordfake: marshal gateway payload: " + err.Error())
	}
	return b
}

func (c *gwConn) writeLoop() {
	defer c.f.wg.Done()
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		for {
			c.qmu.Lock()
			frames := c.queue
			c.queue = nil
			c.qmu.Unlock()
			if len(frames) == 0 {
				break
			}
			for _, fr := range frames {
				_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if fr.closeCode > 0 {
					_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(fr.closeCode, fr.closeText))
					// Let the client read the close frame before the socket goes: the read
					// loop drains until the client closes or this deadline passes.
					_ = c.ws.SetReadDeadline(time.Now().Add(time.Second))
					return
				}
				mt := websocket.TextMessage
				if fr.binary {
					mt = websocket.BinaryMessage
				}
				if err := c.ws.WriteMessage(mt, fr.data); err != nil {
					c.abort()
					return
				}
			}
		}
	}
}

func (c *gwConn) readLoop() {
	f := c.f
	code := -1
	defer func() { f.connEnded(c, code) }()
	// A client that stays silent for two heartbeat intervals (and a margin) is a zombie.
	timeout := 2*f.opts.HeartbeatInterval + 5*time.Second
	for {
		f.mu.Lock()
		closing := c.closing
		f.mu.Unlock()
		if !closing {
			_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
		}
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			return
		}
		if closing {
			continue
		}
		f.mu.Lock()
		f.handleFrame(c, mt, data)
		f.mu.Unlock()
	}
}

// connEnded forgets a connection. A client close with 1000 or 1001 ends its session, as on
// Discord; any other end leaves the session resumable.
func (f *Fake) connEnded(c *gwConn, code int) {
	c.abort()
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
	if s := c.session; s != nil && s.conn == c {
		s.conn = nil
		if code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway {
			delete(f.sessions, s.id)
		}
	}
	c.session = nil
	f.notifyLocked()
}

// closeConnLocked sends a close frame with a Discord close code. Callers hold f.mu.
func (f *Fake) closeConnLocked(c *gwConn, code int, text string) {
	if c.closing {
		return
	}
	c.closing = true
	if s := c.session; s != nil && s.conn == c {
		s.conn = nil
	}
	c.enqueue(outFrame{closeCode: code, closeText: text})
	f.log.Debug("discordfake: gateway close", "code", code, "reason", text)
}

type gwPayload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
}

// handleFrame handles one client payload. Callers hold f.mu.
func (f *Fake) handleFrame(c *gwConn, mt int, data []byte) {
	var p gwPayload
	if mt != websocket.TextMessage || json.Unmarshal(data, &p) != nil {
		f.closeConnLocked(c, closeDecodeError, "Error while decoding payload.")
		return
	}
	switch p.Op {
	case 1: // Heartbeat
		c.heartbeats++
		f.notifyLocked()
		c.enqueue(outFrame{data: []byte(`{"t":null,"s":null,"op":11,"d":null}`)})
	case 2:
		f.identify(c, p.D)
	case 6:
		f.resume(c, p.D)
	case 3, 4, 8: // presence, voice state, request guild members: accepted, ignored
		if c.session == nil {
			f.closeConnLocked(c, closeNotAuthenticated, "Not authenticated.")
		}
	default:
		if c.session == nil {
			f.closeConnLocked(c, closeNotAuthenticated, "Not authenticated.")
			return
		}
		f.closeConnLocked(c, closeUnknownOpcode, "Unknown opcode.")
	}
}

func (f *Fake) tokenOK(t string) bool {
	return t != "" && strings.TrimPrefix(t, "Bot ") == f.token
}

func (f *Fake) identify(c *gwConn, d json.RawMessage) {
	var id struct {
		Token    string `json:"token"`
		Intents  *int64 `json:"intents"`
		Compress bool   `json:"compress"`
		Shard    []int  `json:"shard"`
	}
	if err := json.Unmarshal(d, &id); err != nil {
		f.closeConnLocked(c, closeDecodeError, "Error while decoding payload.")
		return
	}
	switch {
	case c.session != nil:
		f.closeConnLocked(c, closeAlreadyAuthenticated, "Already authenticated.")
		return
	case !f.tokenOK(id.Token):
		f.closeConnLocked(c, closeAuthenticationFailed, "Authentication failed.")
		return
	case id.Intents == nil || *id.Intents < 0 || *id.Intents&^knownIntentBits != 0:
		f.closeConnLocked(c, closeInvalidIntents, "Invalid intent(s).")
		return
	case *id.Intents&f.opts.UnapprovedIntents != 0:
		f.closeConnLocked(c, closeDisallowedIntents, "Disallowed intent(s).")
		return
	case id.Shard != nil && (len(id.Shard) != 2 || id.Shard[0] != 0 || id.Shard[1] != 1):
		f.closeConnLocked(c, closeInvalidShard, "Invalid shard.")
		return
	}
	s := &gwSession{id: randomToken(16), version: c.version, intents: *id.Intents, compress: id.Compress, shard: id.Shard, conn: c}
	f.sessions[s.id] = s
	c.session = s
	f.identifies++
	f.sessionStarts++

	guilds := make([]obj, 0, len(f.guildOrder))
	for _, gid := range f.guildOrder {
		guilds = append(guilds, obj{"id": gid, "unavailable": true})
	}
	user := wireUser(f.bot)
	user["verified"] = true
	user["mfa_enabled"] = false
	user["email"] = nil
	ready := obj{
		"v":                       s.version,
		"user":                    user,
		"guilds":                  guilds,
		"session_id":              s.id,
		"resume_gateway_url":      f.GatewayURL(),
		"session_type":            "normal",
		"application":             obj{"id": f.appID, "flags": f.appFlags()},
		"private_channels":        []any{},
		"presences":               []any{},
		"relationships":           []any{},
		"guild_join_requests":     []any{},
		"user_settings":           obj{},
		"geo_ordered_rtc_regions": []string{"us-east", "us-central", "atlanta", "us-south", "newark"},
		"_trace":                  trace(),
	}
	if s.shard != nil {
		ready["shard"] = s.shard
	}
	f.sendTo(s, "READY", ready, true)
	if s.intents&IntentGuilds != 0 {
		for _, gid := range f.guildOrder {
			f.sendTo(s, "GUILD_CREATE", f.wireGuild(f.guilds[gid], true, s.intents&IntentGuildMembers != 0), true)
		}
	}
	f.notifyLocked()
}

// appFlags are the application flags READY carries: the "limited" gateway intent flags of an
// unverified app, for the privileged intents that are approved.
func (f *Fake) appFlags() int64 {
	var flags int64
	if f.opts.UnapprovedIntents&IntentGuildPresences == 0 {
		flags |= 1 << 13
	}
	if f.opts.UnapprovedIntents&IntentGuildMembers == 0 {
		flags |= 1 << 15
	}
	if f.opts.UnapprovedIntents&IntentMessageContent == 0 {
		flags |= 1 << 19
	}
	return flags
}

func (f *Fake) resume(c *gwConn, d json.RawMessage) {
	var rs struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(d, &rs); err != nil {
		f.closeConnLocked(c, closeDecodeError, "Error while decoding payload.")
		return
	}
	if c.session != nil {
		f.closeConnLocked(c, closeAlreadyAuthenticated, "Already authenticated.")
		return
	}
	if !f.tokenOK(rs.Token) {
		f.closeConnLocked(c, closeAuthenticationFailed, "Authentication failed.")
		return
	}
	s := f.sessions[rs.SessionID]
	if s == nil || rs.Seq > s.seq || (len(s.log) > 0 && rs.Seq < s.log[0].seq-1) {
		c.enqueue(outFrame{data: []byte(`{"t":null,"s":null,"op":9,"d":false}`)})
		return
	}
	if old := s.conn; old != nil && old != c {
		old.session = nil
		old.abort()
	}
	s.conn = c
	c.session = s
	f.resumes++
	for _, ev := range s.log {
		if ev.seq > rs.Seq && !ev.noReplay {
			c.enqueue(outFrame{data: ev.frame})
		}
	}
	f.sendTo(s, "RESUMED", obj{"_trace": trace()}, true)
	f.notifyLocked()
}

// sendTo sends a dispatch to one session with its next sequence number, keeping it for replay
// unless noReplay. Callers hold f.mu.
func (f *Fake) sendTo(s *gwSession, t string, d any, noReplay bool) {
	s.seq++
	frame := mustJSON(obj{"op": 0, "t": t, "s": s.seq, "d": d})
	s.log = append(s.log, gwEvent{seq: s.seq, frame: frame, noReplay: noReplay})
	if len(s.log) > maxSessionLog {
		s.log = append([]gwEvent(nil), s.log[len(s.log)-maxSessionLog/2:]...)
	}
	if s.conn == nil || s.conn.closing {
		return
	}
	if t == "READY" && s.compress {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		_, _ = zw.Write(frame)
		_ = zw.Close()
		s.conn.enqueue(outFrame{data: buf.Bytes(), binary: true})
		return
	}
	s.conn.enqueue(outFrame{data: frame})
}

// broadcast sends a dispatch to every session for which build returns ok. Callers hold f.mu.
func (f *Fake) broadcast(t string, build func(s *gwSession) (any, bool)) {
	ids := make([]string, 0, len(f.sessions))
	for id := range f.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := f.sessions[id]
		if d, ok := build(s); ok {
			f.sendTo(s, t, d, false)
		}
	}
}

// DropGateway closes every gateway connection abruptly, without a close frame, as a network
// failure would. Sessions stay resumable: discordgo reconnects and sends Resume.
func (f *Fake) DropGateway() {
	f.mu.Lock()
	conns := make([]*gwConn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
}

// SendReconnect sends op 7 Reconnect on every identified connection; the client is expected to
// close and resume.
func (f *Fake) SendReconnect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		if c.session != nil && !c.closing {
			c.enqueue(outFrame{data: []byte(`{"t":null,"s":null,"op":7,"d":null}`)})
		}
	}
}

// InvalidateSession ends every session: connected clients get op 9 Invalid Session (d=false)
// and must Identify again; a later Resume of an old session gets op 9 too.
func (f *Fake) InvalidateSession() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		if c.session != nil && !c.closing {
			c.session.conn = nil
			c.session = nil
			c.enqueue(outFrame{data: []byte(`{"t":null,"s":null,"op":9,"d":false}`)})
		}
	}
	f.sessions = map[string]*gwSession{}
	f.notifyLocked()
}

// Gateway describes the gateway: whether a client is connected, with which session and intents
// (one of them when several are), and how many are.
func (f *Fake) Gateway() GatewayInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	gi := GatewayInfo{Identifies: f.identifies, Resumes: f.resumes}
	for c := range f.conns {
		if s := c.session; s != nil && !c.closing {
			gi.Connected, gi.SessionID, gi.Intents, gi.Seq, gi.Heartbeats = true, s.id, s.intents, s.seq, c.heartbeats
			gi.Sessions++
		}
	}
	return gi
}
