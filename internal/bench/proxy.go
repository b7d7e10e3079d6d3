package bench

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/liaison-bot/liaison/internal/pause"
)

// delayProxy stands in front of a fake's HTTP API and makes every call
// take delay longer, half on the way in and half on the way back, as a
// platform's API does from far away. Websockets do not go through it: the
// fakes hand out their own ws:// URLs.
type delayProxy struct {
	srv       *http.Server
	url       string
	transport *http.Transport
}

func newDelayProxy(target string, delay time.Duration) (*delayProxy, error) {
	to, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &delayProxy{
		url: "http://" + ln.Addr().String(),
		transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(to) },
		Transport: delayTransport{base: p.transport, half: delay / 2},
		// A client that gave up is no error worth a log line.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
		},
	}
	p.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }() // returns when Close closes the server
	return p, nil
}

// URL is the proxy's base URL, to put in a connection's api_url.
func (p *delayProxy) URL() string { return p.url }

func (p *delayProxy) Close() {
	_ = p.srv.Close()
	p.transport.CloseIdleConnections()
}

// delayTransport waits half before a call and half after it.
type delayTransport struct {
	base http.RoundTripper
	half time.Duration
}

func (t delayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.half > 0 && !pause.For(r.Context(), t.half) {
		return nil, r.Context().Err()
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if t.half > 0 && !pause.For(r.Context(), t.half) {
		resp.Body.Close()
		return nil, r.Context().Err()
	}
	return resp, nil
}
