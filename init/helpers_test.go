package main

// Test helpers: the test binary doubles as the init (SFI_ROLE=init: it runs `run` with its
// arguments, as the real binary does) and as the small programs the init supervises
// (SFI_ROLE=app: sleep, exit with a code, trap signals, listen on a port, make orphans,
// daemonize with a PID file ...). Tests start real processes, send real signals and talk
// HTTP to the real health server on 127.0.0.1.

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// appPath is a symlink to the test binary named sfi-app: run by that name, it is a helper
// program (whatever SFI_ROLE it inherits from the init that started it).
var appPath string

// testExe is a copy of the test binary that every UID may run (as the init: SFI_ROLE=init).
var testExe string

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "sfi-app" {
		os.Exit(app(os.Args[1:]))
	}
	if os.Getenv("SFI_ROLE") == "init" {
		os.Exit(run(os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "sfi-test-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755) // the init and the helpers run as other UIDs too: a copy they can run
	exe, _ := os.Executable()
	data, err := os.ReadFile(exe)
	if err != nil {
		panic(err)
	}
	testExe = filepath.Join(dir, "sfi-test")
	if err := os.WriteFile(testExe, data, 0o755); err != nil {
		panic(err)
	}
	appPath = filepath.Join(dir, "sfi-app")
	if err := os.Symlink(testExe, appPath); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// app is a supervised program: app MODE ARGS...
func app(args []string) int {
	say := func(s string) { os.Stdout.WriteString(s + "\n") }
	switch args[0] {
	case "sleep": // sleep [SECONDS]
		d := time.Hour
		if len(args) > 1 {
			f, _ := strconv.ParseFloat(args[1], 64)
			d = time.Duration(f * float64(time.Second))
		}
		time.Sleep(d)
	case "exit": // exit CODE [DELAY_MS]
		if len(args) > 2 {
			n, _ := strconv.Atoi(args[2])
			time.Sleep(time.Duration(n) * time.Millisecond)
		}
		n, _ := strconv.Atoi(args[1])
		return n
	case "stderr-exit": // stderr-exit CODE MESSAGE
		os.Stderr.WriteString(args[2] + "\n")
		n, _ := strconv.Atoi(args[1])
		return n
	case "trap": // trap SIGNAL EXIT_AFTER_MS: say "got SIG" and exit 0 after the delay
		sig, _ := signalByName(args[1])
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, sig)
		say("armed")
		<-ch
		say("got " + args[1])
		n, _ := strconv.Atoi(args[2])
		time.Sleep(time.Duration(n) * time.Millisecond)
		say("bye")
	case "ignore": // ignore SIGNAL
		sig, _ := signalByName(args[1])
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, sig)
		say("armed")
		for range ch {
			say("ignoring " + args[1])
		}
	case "count": // count SIGNAL FILE: append a line to FILE per signal
		sig, _ := signalByName(args[1])
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, sig, syscall.SIGTERM)
		say("armed")
		for s := range ch {
			if s == syscall.SIGTERM {
				return 0
			}
			f, _ := os.OpenFile(args[2], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			f.WriteString(args[1] + "\n")
			f.Close()
		}
	case "listen": // listen PORT DELAY_MS: accept and answer HTTP 200 after the delay (saying "accepted")
		n, _ := strconv.Atoi(args[2])
		time.Sleep(time.Duration(n) * time.Millisecond)
		ln, err := net.Listen("tcp", "127.0.0.1:"+args[1])
		if err != nil {
			return 3
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				return 4
			}
			say("accepted")
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(2 * time.Second))
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			}()
		}
	case "touch": // touch FILE [DELAY_MS]: create FILE (after the delay), then sleep
		if len(args) > 2 {
			n, _ := strconv.Atoi(args[2])
			time.Sleep(time.Duration(n) * time.Millisecond)
		}
		os.WriteFile(args[1], nil, 0o644)
		time.Sleep(time.Hour)
	case "append": // append FILE CODE: add an x to FILE, exit CODE
		f, _ := os.OpenFile(args[1], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		f.WriteString("x")
		f.Close()
		n, _ := strconv.Atoi(args[2])
		return n
	case "orphans": // orphans N MS: N children that each leave a grandchild living MS, then sleep
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n; i++ {
			c := exec.Command(os.Args[0], "middle", args[2])
			c.Run()
		}
		say("orphans made")
		time.Sleep(time.Hour)
	case "middle": // middle MS: start a grandchild and exit at once
		c := exec.Command(os.Args[0], "sleep", strconv.FormatFloat(mustAtof(args[1])/1000, 'f', 3, 64))
		c.Start()
		return 0
	case "daemon": // daemon PIDFILE [SAME]: start a detached daemon, write its PID (or ours) and exit 0
		if len(args) > 2 && args[2] == "same" {
			os.WriteFile(args[1], []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
			return app([]string{"count", "SIGHUP", args[1] + ".hups"})
		}
		c := exec.Command(os.Args[0], "trap", "SIGTERM", "0")
		c.Stdout = os.Stdout
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		c.Start()
		time.Sleep(300 * time.Millisecond)
		os.WriteFile(args[1], []byte(strconv.Itoa(c.Process.Pid)+"\n"), 0o644)
		return 0
	case "children": // children N TAG: start N sleeping children (TAG in their argv) in our group, then sleep
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n; i++ {
			c := exec.Command(os.Args[0], "sleep", "3600", args[2])
			c.Start()
		}
		say("children started")
		time.Sleep(time.Hour)
	default:
		return 99
	}
	return 0
}

func mustAtof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// appArgv is the argv of a helper program.
func appArgv(args ...string) []string {
	return append([]string{appPath}, args...)
}

// initProc is a running init.
type initProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	stdout strings.Builder
	exited chan struct{}
	code   int
	at     time.Time
}

type initOpts struct {
	config any // written to init.json: a JSON string or a value for obj/jsStringify
	args   []string
	env    map[string]string
	dir    string
	uid    int
	gid    int
	asUser bool
	noHome bool
}

// jsonText renders a test config: a string as it is, else through the JSON writer.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeJSONValue(&b, v)
	return b.String()
}

func startInit(t *testing.T, o initOpts) *initProc {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	args := []string{}
	if o.config != nil {
		p := filepath.Join(o.dir, "init.json")
		if err := os.WriteFile(p, []byte(jsonText(o.config)), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	args = append(args, o.args...)
	cmd := exec.Command(testExe, args...)
	env := []string{"SFI_ROLE=init"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SHELLFREE_") || strings.HasPrefix(kv, "SFI_ROLE=") || (o.noHome && strings.HasPrefix(kv, "HOME=")) {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range o.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	cmd.Dir = o.dir
	if o.asUser {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid), NoSetGroups: true}}
	}
	stderr, _ := cmd.StderrPipe()
	stdout, _ := cmd.StdoutPipe()
	p := &initProc{t: t, cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			p.mu.Lock()
			p.stdout.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		// the pipes end when the init and everything holding them are gone; a process left
		// behind is itself a failure the tests look for, so do not wait for them for ever
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		<-done
		err := cmd.Wait()
		p.at = time.Now()
		p.code = cmd.ProcessState.ExitCode()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == -1 {
			p.code = -1
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			select {
			case <-p.exited:
			case <-time.After(5 * time.Second):
			}
		}
		for _, l := range p.Lines() {
			if m := regexp.MustCompile(`started \(PID (\d+)\)`).FindStringSubmatch(l); m != nil {
				pid, _ := strconv.Atoi(m[1])
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})
	return p
}

func (p *initProc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

func (p *initProc) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

var textPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[[A-Z]+\] `)

// Messages are the log lines without time and level.
func (p *initProc) Messages() []string {
	var out []string
	for _, l := range p.Lines() {
		out = append(out, textPrefix.ReplaceAllString(l, ""))
	}
	return out
}

func (p *initProc) log() string { return strings.Join(p.Lines(), "\n") }

// waitLine waits for a log line matching re.
func (p *initProc) waitLine(re string, timeout time.Duration) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, l := range p.Lines() {
			if rx.MatchString(l) {
				return l
			}
		}
		select {
		case <-p.exited:
			for _, l := range p.Lines() {
				if rx.MatchString(l) {
					return l
				}
			}
			p.t.Fatalf("init exited without a line matching %s:\n%s", re, p.log())
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.t.Fatalf("no line matching %s within %v:\n%s", re, timeout, p.log())
	return ""
}

func (p *initProc) waitStdout(s string, timeout time.Duration) {
	p.t.Helper()
	until(p.t, timeout, func() bool { return strings.Contains(p.Stdout(), s) })
}

func (p *initProc) signal(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// exit waits for the init to end; returns its code and when.
func (p *initProc) exit(timeout time.Duration) (int, time.Time) {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code, p.at
	case <-time.After(timeout):
		p.t.Fatalf("init did not exit within %v:\n%s", timeout, p.log())
	}
	return 0, time.Time{}
}

// port is the health server's port from the log.
func (p *initProc) port() int {
	p.t.Helper()
	l := p.waitLine(`Health server listening on http://[^ ]+:(\d+) `, 10*time.Second)
	m := regexp.MustCompile(`:(\d+) \(`).FindStringSubmatch(l)
	n, _ := strconv.Atoi(m[1])
	return n
}

func (p *initProc) mainPID() int {
	p.t.Helper()
	l := p.waitLine(`Main process \S+ started \(PID \d+\)`, 10*time.Second)
	m := regexp.MustCompile(`\(PID (\d+)\)`).FindStringSubmatch(l)
	n, _ := strconv.Atoi(m[1])
	return n
}

// hasMessage: does a message match re?
func (p *initProc) hasMessage(re string) bool {
	rx := regexp.MustCompile(re)
	for _, m := range p.Messages() {
		if rx.MatchString(m) {
			return true
		}
	}
	return false
}

// assertOrder checks that messages matching the patterns appear in this order.
func (p *initProc) assertOrder(patterns ...string) {
	p.t.Helper()
	msgs := p.Messages()
	from := 0
	for _, re := range patterns {
		rx := regexp.MustCompile(re)
		found := -1
		for i := from; i < len(msgs); i++ {
			if rx.MatchString(msgs[i]) {
				found = i
				break
			}
		}
		if found < 0 {
			p.t.Fatalf("expected %s after message %d in:\n%s", re, from, p.log())
		}
		from = found + 1
	}
}

func until(t *testing.T, timeout time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("condition not met within %v", timeout)
}

type httpAnswer struct {
	status  int
	headers map[string]string
	body    string
}

// httpDo sends one request to 127.0.0.1:port.
func httpDo(port int, method, path string) (httpAnswer, error) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 3*time.Second)
	if err != nil {
		return httpAnswer{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	data, err := io.ReadAll(c)
	if err != nil {
		return httpAnswer{}, err
	}
	head, body, _ := strings.Cut(string(data), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	a := httpAnswer{headers: map[string]string{}, body: body}
	if f := strings.Fields(lines[0]); len(f) >= 2 {
		a.status, _ = strconv.Atoi(f[1])
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		a.headers[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	return a, nil
}

func get(t *testing.T, port int, path string) httpAnswer {
	t.Helper()
	a, err := httpDo(port, "GET", path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}

// jsonField reads a top-level field of a JSON body.
func jsonField(t *testing.T, body, key string) any {
	t.Helper()
	v, err := parseJSON([]byte(body))
	if err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return v.(*jsObject).field(key)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pidsWithArg lists live processes whose command line has arg.
func pidsWithArg(arg string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !procAlive(pid) {
			continue
		}
		for _, a := range strings.Split(string(cmd), "\x00") {
			if a == arg {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

var health = obj{{"port", 0}, {"host", "127.0.0.1"}}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (to run processes as other UIDs); run go test as root, as CI does")
	}
}

// listenAny holds a port on 127.0.0.1.
func listenAny(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }
