package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/config"
)

// healthTimeout bounds the whole check: a Liaison that cannot say it is
// ready within it is not.
const healthTimeout = 3 * time.Second

// healthcheckCmd asks a running Liaison whether it is ready. The image is
// distroless (no shell, no curl), so the binary itself is the Dockerfile's
// HEALTHCHECK. Docker reads exit code 1 as unhealthy and reserves 2, so
// every failure here exits 1, a bad address included.
func healthcheckCmd(getenv func(string) string, load func() (*config.Config, error)) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the running Liaison answers ready on /readyz, 1 otherwise",
		Long: `Query http://ADDR/readyz of a running Liaison and exit 0 when it answers
200, 1 otherwise, with one line saying why. Made for container health checks:
it needs no shell and no curl.

ADDR is --addr, else the LIAISON_HTTP_ADDR environment variable, else
http.addr of the config when the config file loads, else 127.0.0.1:8080. A
wildcard host (0.0.0.0, [::] or none) is queried on 127.0.0.1. The check
gives up after 3 seconds.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			raw, from := healthAddr(addr, getenv, load)
			target, err := dialable(raw)
			if err != nil {
				return fmt.Errorf("not checked: %s %q: %w", from, raw, err)
			}
			u := "http://" + target + "/readyz"
			if err := askReady(c.Context(), u); err != nil {
				return fmt.Errorf("not ready: %s: %w", u, err)
			}
			fmt.Fprintf(c.OutOrStdout(), "ready: %s\n", u)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "host:port of Liaison's HTTP listener (default: LIAISON_HTTP_ADDR, else the config's http.addr, else "+config.DefaultHTTPAddr+")")
	return cmd
}

// healthAddr picks the address to query and says where it came from.
func healthAddr(flag string, getenv func(string) string, load func() (*config.Config, error)) (addr, from string) {
	if flag != "" {
		return flag, "--addr"
	}
	if v := getenv(config.EnvHTTPAddr); v != "" {
		return v, config.EnvHTTPAddr
	}
	if cfg, err := load(); err == nil && cfg.HTTP.Addr != "" {
		return cfg.HTTP.Addr, "http.addr"
	}
	return config.DefaultHTTPAddr, "the default address"
}

// dialable is the address to query for a listening address: a wildcard
// host listens on the loopback too.
func dialable(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errors.New("not a host:port address")
	}
	if port == "" {
		return "", errors.New("no port")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// askReady is nil when u answers 200 within healthTimeout; otherwise it says
// what came back, the answer's first lines on one line.
func askReady(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	// No proxy: the listener is local.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %s", healthTimeout)
		}
		if cause := errors.Unwrap(err); cause != nil {
			return cause // the *url.Error's cause: the URL is said already
		}
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
	if res.StatusCode == http.StatusOK {
		return nil
	}
	why := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(body)), "\n", "; ")), " ")
	if why == "" {
		return fmt.Errorf("answered %s", res.Status)
	}
	return fmt.Errorf("answered %s: %s", res.Status, why)
}
