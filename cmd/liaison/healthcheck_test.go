package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/liaison-bot/liaison/config"
)

// readyServer answers /readyz with status and body, as handlers/web does.
func readyServer(t *testing.T, status int, body string) (addr string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestHealthcheck(t *testing.T) {
	ctx := context.Background()
	t.Run("Ready", func(t *testing.T) {
		addr := readyServer(t, http.StatusOK, "ready\n")
		code, out, errOut := cli(t, ctx, nil, "healthcheck", "--addr", addr)
		if code != exitOK || out != "ready: http://"+addr+"/readyz\n" || errOut != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("NotReady", func(t *testing.T) {
		addr := readyServer(t, http.StatusServiceUnavailable, "database: unreachable\ndiscord community: gateway not connected\n")
		code, out, errOut := cli(t, ctx, nil, "healthcheck", "--addr", addr)
		want := "liaison: not ready: http://" + addr + "/readyz: answered 503 Service Unavailable: database: unreachable; discord community: gateway not connected\n"
		if code != 1 || out != "" || errOut != want {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errOut, want)
		}
	})
	t.Run("NobodyListens", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		code, _, errOut := cli(t, ctx, nil, "healthcheck", "--addr", addr)
		if code != 1 || !strings.Contains(errOut, "not ready: http://"+addr+"/readyz: ") || !strings.Contains(errOut, "refused") || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("NoAnswer", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		start := time.Now()
		code, _, errOut := cli(t, ctx, nil, "healthcheck", "--addr", strings.TrimPrefix(srv.URL, "http://"))
		if code != 1 || !strings.Contains(errOut, "no answer within 3s") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if d := time.Since(start); d > healthTimeout+2*time.Second {
			t.Errorf("gave up after %s", d)
		}
	})
	t.Run("ErrBadAddress", func(t *testing.T) {
		// Docker reserves exit code 2: a bad address is unhealthy too.
		code, _, errOut := cli(t, ctx, map[string]string{config.EnvHTTPAddr: "localhost"}, "healthcheck")
		if code != 1 || !strings.Contains(errOut, `not checked: LIAISON_HTTP_ADDR "localhost": not a host:port address`) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("WildcardFromEnvironment", func(t *testing.T) {
		addr := readyServer(t, http.StatusOK, "ready\n")
		_, port, _ := net.SplitHostPort(addr)
		code, out, errOut := cli(t, ctx, map[string]string{config.EnvHTTPAddr: "0.0.0.0:" + port}, "healthcheck", "--config", "/nonexistent/liaison.yaml")
		if code != exitOK || out != "ready: http://127.0.0.1:"+port+"/readyz\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("FromConfig", func(t *testing.T) {
		addr := readyServer(t, http.StatusOK, "ready\n")
		example, err := os.ReadFile("../../liaison.example.yaml")
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Replace(string(example), "addr: 127.0.0.1:8080", "addr: "+addr, 1)
		if body == string(example) {
			t.Fatal("the example config's http.addr moved: update this test")
		}
		cfg := writeFile(t, body)
		code, out, errOut := cli(t, ctx, exampleEnv, "healthcheck", "--config", cfg)
		if code != exitOK || out != "ready: http://"+addr+"/readyz\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		// A health check's environment need not hold the tokens: the
		// address is read all the same.
		code, out, errOut = cli(t, ctx, nil, "healthcheck", "--config", cfg)
		if code != exitOK || out != "ready: http://"+addr+"/readyz\n" {
			t.Fatalf("without the tokens: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}

func TestHealthAddr(t *testing.T) {
	fromConfig := func(addr string) func() (*config.Config, error) {
		return func() (*config.Config, error) { return &config.Config{HTTP: config.HTTP{Addr: addr}}, nil }
	}
	noConfig := func() (*config.Config, error) { return nil, errors.New("open ./liaison.yaml: no such file") }
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == config.EnvHTTPAddr {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		name, flag string
		getenv     func(string) string
		load       func() (*config.Config, error)
		want, from string
	}{
		{"Flag", "10.0.0.1:9000", env("0.0.0.0:8081"), fromConfig("127.0.0.1:8082"), "10.0.0.1:9000", "--addr"},
		{"Environment", "", env("0.0.0.0:8081"), fromConfig("127.0.0.1:8082"), "127.0.0.1:8081", "LIAISON_HTTP_ADDR"},
		{"Config", "", env(""), fromConfig("[::]:8082"), "127.0.0.1:8082", "http.addr"},
		{"Default", "", env(""), noConfig, "127.0.0.1:8080", "the default address"},
		{"NoHost", "", env(":8083"), noConfig, "127.0.0.1:8083", "LIAISON_HTTP_ADDR"},
		{"Named", "", env("liaison:8084"), noConfig, "liaison:8084", "LIAISON_HTTP_ADDR"},
		{"IPv6", "[::1]:8085", env(""), noConfig, "[::1]:8085", "--addr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, from := healthAddr(c.flag, c.getenv, c.load)
			got, err := dialable(raw)
			if err != nil || got != c.want || from != c.from {
				t.Errorf("address %q (%v) from %s, want %q from %s", got, err, from, c.want, c.from)
			}
		})
	}
}

// TestHealthcheckInImage: the Dockerfile and compose.yaml run this command,
// by the path the image installs the binary at.
func TestHealthcheckInImage(t *testing.T) {
	const want = `"/usr/local/bin/liaison", "healthcheck"`
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var healthcheck string
	for _, line := range strings.Split(string(dockerfile), "\n") {
		if strings.HasPrefix(line, "HEALTHCHECK ") {
			healthcheck = line
		}
	}
	if !strings.Contains(healthcheck, "CMD ["+want+"]") || !strings.Contains(string(dockerfile), "COPY --from=build /out/liaison /usr/local/bin/liaison") {
		t.Errorf("Dockerfile HEALTHCHECK = %q, want CMD [%s]", healthcheck, want)
	}
	raw, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(compose.Services["liaison"].Healthcheck.Test, " "); got != "CMD /usr/local/bin/liaison healthcheck" {
		t.Errorf("compose.yaml liaison healthcheck = %q", got)
	}
	if code, out, _ := cli(t, context.Background(), nil, "healthcheck", "--help"); code != exitOK || !strings.Contains(out, "/readyz") {
		t.Errorf("healthcheck --help: %d %q", code, out)
	}
}
