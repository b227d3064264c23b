package main

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Checks: the probes shared by wait-for tasks, the on-demand health.ready check and the
// periodic health.checks, and the runner of the periodic ones (Pebble's model).
//
// Which probe: `tcp` connects and closes without sending a byte, so a server that logs requests
// (most do) logs nothing; `http` sends a GET (User-Agent: shellfree-init) that shows in the
// application's access log at every period; `exec` runs a command. Prefer tcp for readiness
// unless the port opens before the application can serve.

// CheckResult is one probe's outcome.
type CheckResult struct {
	OK     bool
	Detail string
}

func tcpCheck(target string, timeout time.Duration) CheckResult {
	host, port, ok := parseHostPort(target)
	if !ok {
		return CheckResult{false, "bad address " + target}
	}
	c, err := net.DialTimeout("tcp", joinHostPort(host, port), timeout)
	if err != nil {
		if isTimeout(err) {
			return CheckResult{false, sprintf("tcp %s: no connection within %d ms", target, ms(timeout))}
		}
		return CheckResult{false, sprintf("tcp %s: %s", target, errCode(err))}
	}
	c.Close()
	return CheckResult{true, sprintf("tcp %s: connected", target)}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

var statusLineRE = lazyRegexp(`^HTTP/1\.[01] ([0-9]{3})`)

// httpCheck GETs url; 2xx and 3xx pass.
func httpCheck(url string, timeout time.Duration) CheckResult {
	u, ok := parseHTTPURL(url)
	if !ok {
		return CheckResult{false, "bad URL " + url}
	}
	deadline := time.Now().Add(timeout)
	noAnswer := CheckResult{false, sprintf("http %s: no answer within %d ms", url, ms(timeout))}
	c, err := net.DialTimeout("tcp", u.Addr(), timeout)
	if err != nil {
		if isTimeout(err) {
			return noAnswer
		}
		return CheckResult{false, sprintf("http %s: %s", url, errCode(err))}
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	host := u.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if u.Port != 80 {
		host += ":" + strconv.Itoa(u.Port)
	}
	req := "GET " + u.Path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: shellfree-init\r\nConnection: close\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		if isTimeout(err) {
			return noAnswer
		}
		return CheckResult{false, sprintf("http %s: %s", url, errCode(err))}
	}
	line, err := bufio.NewReaderSize(c, 512).ReadString('\n')
	if err != nil && line == "" {
		if isTimeout(err) {
			return noAnswer
		}
		return CheckResult{false, sprintf("http %s: %s", url, errCode(err))}
	}
	m := statusLineRE().FindStringSubmatch(line)
	if m == nil {
		return CheckResult{false, sprintf("http %s: malformed answer", url)}
	}
	code, _ := strconv.Atoi(m[1])
	return CheckResult{code >= 200 && code < 400, sprintf("http %s: %d", url, code)}
}

// execCheck runs argv (own process group, no stdio); exit 0 passes.
func execCheck(r *Reaper, env []string, argv []string, timeout time.Duration) CheckResult {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return CheckResult{false, sprintf("exec %s: %s", argv[0], errCode(err))}
	}
	defer devnull.Close()
	fd := devnull.Fd()
	attr := &syscall.ProcAttr{Env: env, Files: []uintptr{fd, fd, fd}, Sys: &syscall.SysProcAttr{Setpgid: true}}
	pid, exit, err := r.Start(argv, attr)
	if err != nil {
		return CheckResult{false, sprintf("exec %s: %s", argv[0], errCode(err))}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case st := <-exit:
		if st.Signal != 0 {
			return CheckResult{false, sprintf("exec %s: killed by %s", argv[0], signalName(st.Signal))}
		}
		return CheckResult{st.Code == 0, sprintf("exec %s: exit code %d", argv[0], st.Code)}
	case <-timer.C:
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return CheckResult{false, sprintf("exec %s: no result within %d ms", argv[0], ms(timeout))}
	}
}

// runProbe runs a check's probe.
func runProbe(p Probe, r *Reaper, env []string, timeout time.Duration) CheckResult {
	switch {
	case p.TCP != "":
		return tcpCheck(p.TCP, timeout)
	case p.HTTP != "":
		return httpCheck(p.HTTP, timeout)
	default:
		return execCheck(r, env, p.Exec, timeout)
	}
}

// CheckState is a periodic check's state. A ready-level check is down until it first passes; an
// alive-level check is up until it fails. Either is down after `threshold` failures in a row,
// and up again at the next pass.
type CheckState struct {
	Name      string
	Level     string
	Up        bool
	Failures  int
	Detail    string
	EverRun   bool
	Threshold int
}

// Checks runs the periodic checks of health.checks.
type Checks struct {
	mu       sync.Mutex
	states   []*CheckState
	cfg      []HealthCheck
	log      *Logger
	reaper   *Reaper
	env      []string
	changed  func() // called when a check goes up or down
	stop     chan struct{}
	stopOnce sync.Once
	gen      int
	since    time.Time // when the current main process started
}

func newChecks(cfg []HealthCheck, log *Logger, r *Reaper, env []string, changed func()) *Checks {
	c := &Checks{cfg: cfg, log: log, reaper: r, env: env, changed: changed, stop: make(chan struct{})}
	c.states = make([]*CheckState, len(cfg))
	c.reset()
	return c
}

// reset marks ready-level checks down (a new main process must prove itself) and alive-level up.
func (c *Checks) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for i, hc := range c.cfg {
		c.states[i] = &CheckState{Name: hc.Name, Level: hc.Level, Up: hc.Level == "alive", Threshold: hc.Threshold}
	}
}

// Start runs every check in its own goroutine until Stop; since is when the main process started.
func (c *Checks) Start(since time.Time) {
	c.mu.Lock()
	c.since = since
	c.mu.Unlock()
	for i := range c.cfg {
		go c.loop(i)
	}
}

// Restarted: a new main process; ready-level checks start over.
func (c *Checks) Restarted(since time.Time) {
	c.reset()
	c.mu.Lock()
	c.since = since
	c.mu.Unlock()
}

// Stop ends the checks.
func (c *Checks) Stop() { c.stopOnce.Do(func() { close(c.stop) }) }

func (c *Checks) loop(i int) {
	hc := c.cfg[i]
	next := time.Duration(0)
	if hc.Level == "alive" {
		next = hc.Period.D
	}
	for {
		select {
		case <-c.stop:
			return
		case <-time.After(next):
		}
		c.mu.Lock()
		gen, since := c.gen, c.since
		c.mu.Unlock()
		r := runProbe(hc.Probe, c.reaper, c.env, hc.Timeout.D)
		up := c.record(i, gen, r)
		next = hc.Period.D
		if !up && hc.Level == "ready" {
			// until a ready check first passes, look often: time to ready matters
			next = min(hc.Period.D, fastPoll(time.Since(since)))
		}
	}
}

// fastPoll: how soon to look again at something not ready yet, t after the main process started.
func fastPoll(t time.Duration) time.Duration {
	switch {
	case t < 2*time.Second:
		return 20 * time.Millisecond
	case t < 10*time.Second:
		return 200 * time.Millisecond
	}
	return time.Second
}

func (c *Checks) record(i, gen int, r CheckResult) bool {
	c.mu.Lock()
	if gen != c.gen {
		c.mu.Unlock()
		return false
	}
	st := c.states[i]
	st.EverRun = true
	st.Detail = r.Detail
	var msg string
	var warn bool
	if r.OK {
		st.Failures = 0
		if !st.Up {
			st.Up = true
			msg = sprintf("Check %s (%s) is up: %s", st.Name, st.Level, r.Detail)
		}
	} else {
		st.Failures++
		if st.Up && st.Failures >= st.Threshold {
			st.Up = false
			warn = true
			msg = sprintf("Check %s (%s) is down after %d failure(s) in a row: %s", st.Name, st.Level, st.Failures, r.Detail)
		}
	}
	up := st.Up
	c.mu.Unlock()
	if msg != "" {
		if warn {
			c.log.Warn(msg, F("check", st.Name), F("level", st.Level), F("up", false))
		} else {
			c.log.Info(msg, F("check", st.Name), F("level", st.Level), F("up", true))
		}
		if c.changed != nil {
			c.changed()
		}
	}
	return up
}

// Down lists the checks of these levels that are down.
func (c *Checks) Down(levels ...string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, st := range c.states {
		if contains(levels, st.Level) && !st.Up {
			out = append(out, st.Name)
		}
	}
	return out
}

// Body is the checks' part of a health answer: {name: {level, status, failures, detail}}.
func (c *Checks) Body(levels ...string) obj {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := obj{}
	for _, st := range c.states {
		if !contains(levels, st.Level) {
			continue
		}
		status := "down"
		if st.Up {
			status = "up"
		}
		o = append(o, F(st.Name, obj{{"level", st.Level}, {"status", status}, {"failures", st.Failures}, {"detail", st.Detail}}))
	}
	return o
}
