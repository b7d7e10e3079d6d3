package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/liaison-bot/liaison/internal/pause"
)

// botProcess is one `liaison run` started from the bench's binary, so
// that its memory and CPU are its own.
type botProcess struct {
	cmd    *exec.Cmd
	addr   string // its health and readiness listener
	log    *os.File
	exited chan struct{}
	err    error // set once exited is closed
}

// startBot runs `bin run --config cfg` in dir, its output in dir/liaison.log.
// databaseURL, when set, points it at Postgres.
func startBot(bin, dir, cfg, databaseURL string) (*botProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "liaison.log"))
	if err != nil {
		return nil, err
	}
	p := &botProcess{addr: addr, log: log, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "run", "--config", cfg)
	// Only what the bot needs: no DATABASE_URL or LIAISON_* of the bench's
	// own environment leaks into it.
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + os.TempDir(), "LIAISON_HTTP_ADDR=" + addr}
	if databaseURL != "" {
		p.cmd.Env = append(p.cmd.Env, "DATABASE_URL="+databaseURL)
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	// The bot dies with the bench, however the bench ends.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady waits until the bot answers /readyz with 200.
func (p *botProcess) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	last := "no answer"
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("liaison exited before it was ready: %v (see %s)", p.err, p.log.Name())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = strings.TrimSpace(string(body))
		} else {
			last = err.Error()
		}
		if !pause.For(ctx, 50*time.Millisecond) {
			return fmt.Errorf("liaison not ready after %v: %s (see %s)", limit, last, p.log.Name())
		}
	}
}

// stop asks the bot to stop (SIGTERM) and kills it if it has not within
// 20 seconds.
func (p *botProcess) stop() error {
	defer p.log.Close()
	select {
	case <-p.exited:
		return fmt.Errorf("liaison exited during the run: %v (see %s)", p.err, p.log.Name())
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("liaison did not stop within 20s of SIGTERM")
	}
	if p.err != nil {
		return fmt.Errorf("liaison stopped with %v (see %s)", p.err, p.log.Name())
	}
	return nil
}

// kill ends the bot at once.
func (p *botProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.log.Close()
}

// memory reads the bot's resident set now (VmRSS) and at its peak so far
// (VmHWM), in bytes.
func (p *botProcess) memory() (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		// "    24512 kB"
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc status %s: %q", key, val)
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, errors.New("no VmRSS or VmHWM in /proc status")
	}
	return rss, peak, sc.Err()
}

// cpu reads the CPU time the bot has used so far, user and system.
func (p *botProcess) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// architecture Linux supports today.
const clockTicks = 100

// parseStatCPU returns utime + stime of a /proc/PID/stat line. The command
// name, in parentheses, may hold spaces: fields are counted after it.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	// After ")": state (field 3) … utime (14), stime (15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
