//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// webFault is what the Web API proxy does to one matching call.
type webFault int

const (
	// fault5xx answers 503 without passing the call on: nothing happened.
	fault5xx webFault = iota + 1
	// fault429 answers Slack's 429 with Retry-After: 1 without passing the
	// call on.
	fault429
	// faultLostAnswer passes the call on, so the platform carries it out,
	// then resets the connection: the answer is lost.
	faultLostAnswer
	// faultSlow passes the call on and answers it late.
	faultSlow
	// faultHold passes the call on and holds its answer until the client
	// goes away (the process is killed) or the hold is released.
	faultHold
)

func (f webFault) String() string {
	return [...]string{"", "5xx", "429", "lost-answer", "slow", "hold"}[f]
}

type webRule struct {
	method string // Web API method, e.g. chat.postMessage; "chat.*" matches a family
	fault  webFault
	times  int           // how many calls it breaks
	every  int           // breaks every every-th matching call (0 or 1: each one)
	delay  time.Duration // faultSlow
	seen   int
}

func (r *webRule) matches(method string) bool {
	if prefix, ok := strings.CutSuffix(r.method, "*"); ok {
		return strings.HasPrefix(method, prefix)
	}
	return r.method == method
}

// webProxy stands between Liaison and a fake's Web API (the api_url of a
// Slack connection) and breaks the calls it is told to. Socket Mode does
// not go through it: apps.connections.open hands out the fake's own URL.
type webProxy struct {
	target string // the fake's base URL
	srv    *http.Server
	url    string
	client *http.Client

	mu      sync.Mutex
	rules   []*webRule
	held    int           // calls being held now
	heldC   chan struct{} // closed and replaced when a call starts being held
	release chan struct{} // closed by releaseHolds
	applied map[webFault]int
}

func newWebProxy(target string) (*webProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &webProxy{
		target: strings.TrimSuffix(target, "/"), url: "http://" + ln.Addr().String(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		heldC:  make(chan struct{}), release: make(chan struct{}), applied: map[webFault]int{},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *webProxy) Close() {
	p.releaseHolds()
	_ = p.srv.Close()
	p.client.CloseIdleConnections()
}

// inject breaks the next times calls of method.
func (p *webProxy) inject(method string, f webFault, times int, delay time.Duration) {
	p.share(method, f, times, 1, delay)
}

// share breaks every every-th call of method, times calls in all.
func (p *webProxy) share(method string, f webFault, times, every int, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &webRule{method: method, fault: f, times: times, every: max(every, 1), delay: delay})
}

// clearHolds drops the holds no call has used up.
func (p *webProxy) clearHolds() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = slices.DeleteFunc(p.rules, func(r *webRule) bool { return r.fault == faultHold })
}

// broken returns how many calls each fault broke so far.
func (p *webProxy) broken() map[webFault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.applied)
}

// releaseHolds answers every held call and ends the holds.
func (p *webProxy) releaseHolds() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.release)
	p.release = make(chan struct{})
}

// waitHeld waits until a call is being held, or ctx ends.
func (p *webProxy) waitHeld(ctx context.Context) bool {
	for {
		p.mu.Lock()
		n, c := p.held, p.heldC
		p.mu.Unlock()
		if n > 0 {
			return true
		}
		select {
		case <-c:
		case <-ctx.Done():
			return false
		}
	}
}

func (p *webProxy) take(method string) *webRule {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.rules {
		if !r.matches(method) {
			continue
		}
		if r.seen++; r.seen%r.every != 0 {
			continue
		}
		out := *r
		if r.times--; r.times <= 0 {
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
		}
		p.applied[out.fault]++
		return &out
	}
	return nil
}

func (p *webProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rule := p.take(strings.TrimPrefix(r.URL.Path, "/api/"))
	if rule != nil {
		switch rule.fault {
		case fault5xx:
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
			return
		case fault429:
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
			return
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	out, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rule != nil {
		switch rule.fault {
		case faultLostAnswer:
			reset(w)
			return
		case faultSlow:
			select {
			case <-time.After(rule.delay):
			case <-r.Context().Done():
				return
			}
		case faultHold:
			p.mu.Lock()
			p.held++
			close(p.heldC)
			p.heldC = make(chan struct{})
			release := p.release
			p.mu.Unlock()
			select {
			case <-release:
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			p.mu.Lock()
			p.held--
			p.mu.Unlock()
			if r.Context().Err() != nil {
				return
			}
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// reset closes the client's connection with a TCP reset.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// tcpProxy forwards TCP connections to a server (Postgres) and can cut
// them all and refuse new ones for a while, as a server restart does.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	cuts  int
	wg    sync.WaitGroup
}

func newTCPProxy(target string) (*tcpProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		if !down {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *tcpProxy) pipe(c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, up)
		p.mu.Unlock()
		up.Close()
	}()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// cut closes every connection and refuses new ones until restore.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	p.cuts++
	for c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *tcpProxy) Close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}

func (p *tcpProxy) String() string { return fmt.Sprintf("tcp proxy %s → %s", p.Addr(), p.target) }
