package slackfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

const (
	ticketLifetime = 30 * time.Second // how long an apps.connections.open URL may be dialed
	maxAckSize     = 20 * 1024        // Slack silently drops larger Socket Mode responses
	writeTimeout   = 5 * time.Second
	disconnectWait = 10 * time.Second // how long a socket may linger after a disconnect frame
)

// socketConn is one Socket Mode connection.
type socketConn struct {
	n        int // its number: the first socket accepted is 1
	ws       *websocket.Conn
	out      chan frame    // frames for the writer
	quit     chan struct{} // closed when the reader stops
	draining bool          // got a disconnect frame: no more envelopes (guarded by Fake.mu)
}

// frame is a text frame for a socket's writer.
type frame struct {
	data       []byte
	disconnect bool // close the socket if the client lingers after it
}

func (f *Fake) appsConnectionsOpen(*apiRequest) (object, *apiError) {
	ticket := randomHex(16)
	f.tickets[ticket] = time.Now()
	u := strings.Replace(f.baseURL, "http://", "ws://", 1) + "/link/?" +
		url.Values{"ticket": {ticket}, "app_id": {f.opts.AppID}}.Encode()
	return object{"url": u}, nil
}

// serveSocket upgrades a dialed apps.connections.open URL to Socket Mode and
// reads acks until the socket closes.
func (f *Fake) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	f.mu.Lock()
	issued, ok := f.tickets[ticket]
	delete(f.tickets, ticket)
	f.mu.Unlock()
	if !ok || time.Since(issued) > ticketLifetime {
		http.Error(w, "invalid or expired ticket: call apps.connections.open for a new URL", http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	ws.SetReadLimit(1 << 20)
	c := &socketConn{ws: ws, out: make(chan frame, 256), quit: make(chan struct{})}

	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		_ = ws.Close()
		return
	}
	f.connects++
	c.n = f.connects
	f.conns = append(f.conns, c)
	hello, _ := json.Marshal(object{
		"type":            "hello",
		"num_connections": len(f.conns),
		"debug_info":      object{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": object{"app_id": f.opts.AppID},
	})
	f.goLocked(func() { f.writeLoop(c, hello) })
	f.changedLocked()
	f.mu.Unlock()
	f.nudge()

	f.readLoop(c)

	close(c.quit)
	_ = ws.Close()
	f.mu.Lock()
	f.conns = slices.DeleteFunc(f.conns, func(x *socketConn) bool { return x == c })
	f.changedLocked()
	f.mu.Unlock()
	// Deliveries in flight on c time out and are retried on another socket.
}

// readLoop reads acks until the socket fails.
func (f *Fake) readLoop(c *socketConn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if len(data) >= maxAckSize {
			continue
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		f.mu.Lock()
		f.ackLocked(ack.EnvelopeID, ack.Payload, "socket")
		f.mu.Unlock()
		f.nudge()
	}
}

// writeLoop owns the socket's writes: hello first, then envelopes and
// disconnect frames, and a PING every PingInterval.
func (f *Fake) writeLoop(c *socketConn, hello []byte) {
	write := func(data []byte) bool {
		_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		return c.ws.WriteMessage(websocket.TextMessage, data) == nil
	}
	ping := func() bool {
		return c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(writeTimeout)) == nil
	}
	if !write(hello) || !ping() {
		_ = c.ws.Close()
		return
	}
	ticker := time.NewTicker(f.opts.PingInterval)
	defer ticker.Stop()
	var linger <-chan time.Time
	for {
		select {
		case <-c.quit:
			return
		case <-f.ctx.Done():
			_ = c.ws.Close()
			return
		case fr := <-c.out:
			if !write(fr.data) {
				_ = c.ws.Close()
				return
			}
			if fr.disconnect {
				linger = time.After(disconnectWait)
			}
		case <-ticker.C:
			if !ping() {
				_ = c.ws.Close()
				return
			}
		case <-linger:
			_ = c.ws.Close()
			return
		}
	}
}

// pickConnLocked picks the socket for the next envelope: the open sockets
// that were not asked to disconnect take turns, as Slack spreads an app's
// envelopes over its connections (one per replica). An envelope goes to one
// socket only; a retry may go to another.
func (f *Fake) pickConnLocked() *socketConn {
	var open []*socketConn
	for _, c := range f.conns {
		if !c.draining {
			open = append(open, c)
		}
	}
	if len(open) == 0 {
		return nil
	}
	c := open[f.next%len(open)]
	f.next++
	return c
}

// DropSocket closes every Socket Mode connection abruptly, as a network
// failure would. Envelopes in flight are retried (Events API) once their ack
// is overdue; envelopes not yet sent wait for the next connection.
func (f *Fake) DropSocket() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.ws.Close()
	}
}

// Disconnect sends every connection Slack's
// {"type":"disconnect","reason":"refresh_requested"} frame and sends it no
// more envelopes; slack-go then opens a new connection. A socket still open
// 10 s later is closed.
func (f *Fake) Disconnect() {
	data, _ := json.Marshal(object{
		"type":       "disconnect",
		"reason":     "refresh_requested",
		"debug_info": object{"host": "applink-fake"},
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		if c.draining {
			continue
		}
		c.draining = true
		select {
		case c.out <- frame{data: data, disconnect: true}:
		default:
			_ = c.ws.Close()
		}
	}
	f.changedLocked()
}

// Connections returns how many Socket Mode connections are open. Several
// clients may connect with the same app token, as an app's replicas do.
func (f *Fake) Connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// Connects returns how many Socket Mode connections were ever accepted.
func (f *Fake) Connects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects
}
