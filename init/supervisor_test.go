package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The supervisor's life cycle, run for real: the init as a process, real main processes, real
// signals, real HTTP on 127.0.0.1 (ephemeral ports).

var lineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(INFO|WARN|ERROR)\] \S`)

// openDir is a directory every UID may read (t.TempDir's are 0700).
func openDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sfi-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestBannerTasksStatesAndSIGTERM(t *testing.T) {
	d := t.TempDir()
	p := startInit(t, initOpts{dir: d, config: obj{
		{"tasks", []any{
			obj{{"validate", appArgv("exit", "0")}},
			obj{{"ensure-dir", filepath.Join(d, "spool")}, {"writable", true}},
			obj{{"run", appArgv("exit", "0")}},
		}},
		{"main", appArgv("sleep")},
		{"main-name", "sleeper"},
		{"health", health},
		{"shutdown", obj{{"grace", "5s"}, {"drain", "0s"}}},
	}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.signal(syscall.SIGTERM)
	code, _ := p.exit(15 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	for _, l := range p.Lines() {
		if !lineRE.MatchString(l) {
			t.Errorf("bad log line %q", l)
		}
	}
	if !regexp.MustCompile(`^shellfree-init \S+ starting \(PID \d+, UID 0 \(root\), GID 0, HOME /\S*, config /\S+/init\.json\)$`).MatchString(p.Messages()[0]) {
		t.Errorf("banner: %s", p.Messages()[0])
	}
	p.assertOrder(
		`^shellfree-init .* starting`,
		`^State: INITIALIZING -> VALIDATING$`,
		`^Task 1/3 validate .*sfi-app exit 0: ok \(passed; \d+ ms\)$`,
		`^Task 2/3 ensure-dir .*/spool: ok \(created, writable; \d+ ms\)$`,
		`^State: VALIDATING -> PREPARING$`,
		`^Task 3/3 run .*: ok \(exit code 0; \d+ ms\)$`,
		`^State: PREPARING -> STARTING$`,
		`^Health server listening on http://127\.0\.0\.1:\d+ \(/live, /ready, /health\)$`,
		`^Main process sleeper started \(PID \d+\): \S+sfi-app sleep$`,
		`^State: STARTING -> RUNNING$`,
		`^Ready \(main process running; \d+ ms after start\)$`,
		`^Received signal SIGTERM$`,
		`^State: RUNNING -> SHUTTING_DOWN$`,
		`^Sending SIGTERM to the process group of main process sleeper \(PID \d+\); grace 5000 ms$`,
		`^Main process sleeper \(PID \d+\) stopped: killed by SIGTERM$`,
		`^Shutdown complete \(exit code 0\)$`,
		`^State: SHUTTING_DOWN -> EXITED$`,
	)
	if m := p.Messages(); m[len(m)-1] != "State: SHUTTING_DOWN -> EXITED" {
		t.Errorf("last line %q", m[len(m)-1])
	}
}

func TestJSONLog(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("sleep")}, {"health", health}}, args: []string{"--log-format", "json"}})
	p.waitLine(`"State: STARTING -> RUNNING"`, 10*time.Second)
	p.signal(syscall.SIGINT)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	var states []string
	timeRE := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	sawSIGINT := false
	for i, l := range p.Lines() {
		v, err := parseJSON([]byte(l))
		if err != nil {
			t.Fatalf("line %d not JSON: %s", i, l)
		}
		o := v.(*jsObject)
		if o.keys[0] != "time" || o.keys[1] != "level" || o.keys[2] != "msg" {
			t.Errorf("keys %v", o.keys)
		}
		if !timeRE.MatchString(o.field("time").(string)) {
			t.Errorf("time %v", o.field("time"))
		}
		if lv := o.field("level"); lv != "INFO" && lv != "WARN" && lv != "ERROR" {
			t.Errorf("level %v", lv)
		}
		if i == 0 && (o.field("uid") != 0.0 || o.field("version") != version) {
			t.Errorf("banner fields: %s", l)
		}
		if s, ok := o.field("state").(string); ok {
			states = append(states, s)
		}
		if o.field("msg") == "Received signal SIGINT" {
			sawSIGINT = true
		}
	}
	if strings.Join(states, ",") != "VALIDATING,PREPARING,STARTING,RUNNING,SHUTTING_DOWN,EXITED" || !sawSIGINT {
		t.Fatalf("states %v, SIGINT seen %v", states, sawSIGINT)
	}
}

func TestSIGTERMWithinDrainPlusGrace(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("sleep")}, {"health", health}, {"shutdown", obj{{"grace", "3s"}, {"drain", "500ms"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	t0 := time.Now()
	p.signal(syscall.SIGTERM)
	code, at := p.exit(15 * time.Second)
	took := at.Sub(t0)
	if code != 0 || took < 450*time.Millisecond || took > 4500*time.Millisecond {
		t.Fatalf("exit %d after %v:\n%s", code, took, p.log())
	}
}

func TestIgnoredSIGTERMIsKilledAtGrace(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("ignore", "SIGTERM")}, {"health", health}, {"shutdown", obj{{"grace", "1s"}, {"drain", "0s"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("armed", 10*time.Second)
	t0 := time.Now()
	p.signal(syscall.SIGTERM)
	code, at := p.exit(15 * time.Second)
	took := at.Sub(t0)
	if code != 137 || took < 950*time.Millisecond || took > 2*time.Second {
		t.Fatalf("exit %d after %v:\n%s", code, took, p.log())
	}
	if !strings.Contains(p.Stdout(), "ignoring SIGTERM") {
		t.Errorf("main did not get SIGTERM: %q", p.Stdout())
	}
	p.assertOrder(`did not exit within 1000 ms; sending SIGKILL$`, `^Main process \S+ \(PID \d+\) stopped: killed by SIGKILL$`, `^Shutdown complete \(exit code 137\)$`)
}

func TestSecondSIGTERMDoesNotCutTheWait(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("trap", "SIGTERM", "800")}, {"health", health}, {"shutdown", obj{{"grace", "5s"}, {"drain", "0s"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("armed", 10*time.Second)
	t0 := time.Now()
	p.signal(syscall.SIGTERM)
	p.waitLine(`Sending SIGTERM`, 5*time.Second)
	p.signal(syscall.SIGTERM)
	code, at := p.exit(15 * time.Second)
	if code != 0 || at.Sub(t0) < 750*time.Millisecond || !strings.Contains(p.Stdout(), "bye") {
		t.Fatalf("exit %d after %v, stdout %q:\n%s", code, at.Sub(t0), p.Stdout(), p.log())
	}
	if !p.hasMessage(`^Received signal SIGTERM again; shutdown already in progress, still waiting$`) {
		t.Errorf("no 'again' line:\n%s", p.log())
	}
}

func TestConfiguredStopSignalReceived(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("trap", "SIGQUIT", "0")}, {"health", health}, {"shutdown", obj{{"grace", "5s"}, {"drain", "0s"}, {"signal", "SIGQUIT"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("armed", 10*time.Second)
	p.signal(syscall.SIGQUIT)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	if !strings.Contains(p.Stdout(), "got SIGQUIT") {
		t.Errorf("stdout %q", p.Stdout())
	}
	p.assertOrder(`^Received signal SIGQUIT$`, `^Sending SIGQUIT to the process group of main process`, `^Shutdown complete \(exit code 0\)$`)
}

// Pebble #719: the configured stop signal is what the main process gets, whatever stop signal
// the init received (docker stop sends SIGTERM; nginx wants SIGQUIT for a graceful stop).
func TestConfiguredStopSignalIsSentOnSIGTERM(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("trap", "SIGQUIT", "0")}, {"health", health}, {"shutdown", obj{{"grace", "5s"}, {"signal", "quit"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("armed", 10*time.Second)
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	if !strings.Contains(p.Stdout(), "got SIGQUIT") {
		t.Errorf("main did not get SIGQUIT: %q", p.Stdout())
	}
	p.assertOrder(`^Received signal SIGTERM$`, `^Sending SIGQUIT to the process group of main process`)
}

func TestSIGHUPForwardedOnce(t *testing.T) {
	d := t.TempDir()
	hups := filepath.Join(d, "hups")
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("count", "SIGHUP", hups)}, {"health", health}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("armed", 10*time.Second)
	p.signal(syscall.SIGHUP)
	p.waitLine(`Received signal SIGHUP; forwarding to main process \S+ \(PID \d+\) \(reload\)`, 5*time.Second)
	until(t, 5*time.Second, func() bool { b, _ := os.ReadFile(hups); return len(b) > 0 })
	time.Sleep(300 * time.Millisecond)
	if b, _ := os.ReadFile(hups); string(b) != "SIGHUP\n" {
		t.Fatalf("main got %q", b)
	}
	if p.cmd.ProcessState != nil {
		t.Fatal("init stopped")
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}

// `squid -N` with pid-file: the PID file names the process the init started. It got SIGHUP
// twice from the Node init (to its group and to the PID); once now.
func TestSIGHUPOnceWithPidFileOfTheMainProcess(t *testing.T) {
	d := t.TempDir()
	pidFile := filepath.Join(d, "app.pid")
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("daemon", pidFile, "same")}, {"pid-file", pidFile}, {"health", health}}})
	p.waitLine(`PID file .*: main process PID \d+`, 10*time.Second)
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("armed", 10*time.Second)
	p.signal(syscall.SIGHUP)
	until(t, 5*time.Second, func() bool { b, _ := os.ReadFile(pidFile + ".hups"); return len(b) > 0 })
	time.Sleep(300 * time.Millisecond)
	if b, _ := os.ReadFile(pidFile + ".hups"); string(b) != "SIGHUP\n" {
		t.Fatalf("main got %q", b)
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}

func TestStopDuringTasks(t *testing.T) {
	d := t.TempDir()
	marker := filepath.Join(d, "main-ran")
	p := startInit(t, initOpts{dir: d, config: obj{{"tasks", []any{obj{{"run", appArgv("sleep", "47.25")}}}}, {"main", appArgv("touch", marker)}, {"health", health}}})
	p.waitLine(`State: VALIDATING -> PREPARING`, 10*time.Second)
	until(t, 5*time.Second, func() bool { return len(pidsWithArg("47.25")) > 0 })
	t0 := time.Now()
	p.signal(syscall.SIGTERM)
	code, at := p.exit(15 * time.Second)
	if code != 0 || at.Sub(t0) > 3*time.Second {
		t.Fatalf("exit %d after %v:\n%s", code, at.Sub(t0), p.log())
	}
	p.assertOrder(`^Received signal SIGTERM$`, `^Stopped by SIGTERM before the main process started$`, `^Shutdown complete`, `^State: SHUTTING_DOWN -> EXITED$`)
	if _, err := os.Stat(marker); err == nil {
		t.Error("main started")
	}
	until(t, 3*time.Second, func() bool { return len(pidsWithArg("47.25")) == 0 })
}

func TestMainExitCodes(t *testing.T) {
	t.Run("a code", func(t *testing.T) {
		p := startInit(t, initOpts{config: obj{{"main", appArgv("exit", "7", "200")}, {"health", health}}})
		if code, _ := p.exit(15 * time.Second); code != 7 {
			t.Fatalf("exit %d", code)
		}
		p.assertOrder(`^State: STARTING -> RUNNING$`, `^Main process sfi-app \(PID \d+\) died: exited with code 7$`, `^Exiting with the main process's code 7$`, `-> ERROR$`)
	})
	t.Run("0", func(t *testing.T) {
		p := startInit(t, initOpts{config: obj{{"main", appArgv("exit", "0")}, {"health", health}}})
		if code, _ := p.exit(15 * time.Second); code != 0 {
			t.Fatalf("exit %d", code)
		}
		m := p.Messages()
		if !strings.HasSuffix(m[len(m)-1], "-> EXITED") || !p.hasMessage(`^Main process sfi-app \(PID \d+\) exited with code 0$`) {
			t.Fatal(p.log())
		}
	})
	t.Run("killed: 128+n and the named line", func(t *testing.T) {
		p := startInit(t, initOpts{config: obj{{"main", appArgv("sleep")}, {"main-name", "squid"}, {"health", health}}})
		pid := p.mainPID()
		p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
		syscall.Kill(pid, syscall.SIGKILL)
		if code, _ := p.exit(15 * time.Second); code != 137 {
			t.Fatalf("exit %d", code)
		}
		if !p.hasMessage(`^Main process squid \(PID \d+\) died: killed by SIGKILL$`) {
			t.Fatal(p.log())
		}
	})
	t.Run("cannot execute", func(t *testing.T) {
		p := startInit(t, initOpts{config: obj{{"main", []string{"/nonexistent/app"}}, {"health", health}}})
		if code, _ := p.exit(15 * time.Second); code != 1 {
			t.Fatalf("exit %d", code)
		}
		if !p.hasMessage(`^cannot start main process /nonexistent/app: ENOENT$`) {
			t.Fatal(p.log())
		}
	})
}

func TestRestartOnFailure(t *testing.T) {
	d := t.TempDir()
	count := filepath.Join(d, "count")
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("append", count, "3")}, {"restart", obj{{"policy", "on-failure"}, {"max-restarts", 2}, {"backoff", "100ms"}}}, {"health", health}}})
	if code, _ := p.exit(15 * time.Second); code != 3 {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(count); string(b) != "xxx" {
		t.Errorf("ran %q", b)
	}
	p.assertOrder(`^Restarting main process in 100 ms \(restart 1 of 2\)$`, `^Restarting main process in 200 ms \(restart 2 of 2\)$`, `^Giving up after 2 restart\(s\)$`)
}

func TestPidFileDaemon(t *testing.T) {
	d := t.TempDir()
	pidFile := filepath.Join(d, "app.pid")
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("daemon", pidFile)}, {"pid-file", pidFile}, {"health", health}, {"shutdown", obj{{"grace", "3s"}, {"drain", "0s"}}}}})
	l := p.waitLine(`PID file .*: main process PID (\d+)`, 10*time.Second)
	daemon := regexp.MustCompile(`PID (\d+)$`).FindStringSubmatch(l)[1]
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	port := p.port()
	time.Sleep(300 * time.Millisecond) // the launcher has exited; the daemon lives on
	r := get(t, port, "/ready")
	if r.status != 200 {
		t.Fatalf("ready %d %s", r.status, r.body)
	}
	if pid := jsonField(t, r.body, "main").(*jsObject).field("pid"); jsNumber(pid.(float64)) != daemon {
		t.Errorf("main pid %v, daemon %s", pid, daemon)
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	if !strings.Contains(p.Stdout(), "got SIGTERM") {
		t.Errorf("daemon did not get SIGTERM: %q", p.Stdout())
	}
}

func TestPidFileDaemonDiesWithItsStatus(t *testing.T) {
	d := t.TempDir()
	pidFile := filepath.Join(d, "app.pid")
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("daemon", pidFile)}, {"pid-file", pidFile}, {"main-name", "daemon"}, {"health", health}}})
	l := p.waitLine(`PID file .*: main process PID (\d+)`, 10*time.Second)
	daemon := regexp.MustCompile(`PID (\d+)$`).FindStringSubmatch(l)[1]
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	pid := int(mustAtof(daemon))
	syscall.Kill(pid, syscall.SIGKILL)
	if code, _ := p.exit(15 * time.Second); code != 137 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	if !p.hasMessage(`^Main process daemon \(PID ` + daemon + `\) died: killed by SIGKILL$`) {
		t.Fatal(p.log())
	}
}

func TestPidFileNeverAppears(t *testing.T) {
	d := t.TempDir()
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("sleep")}, {"pid-file", filepath.Join(d, "never.pid")}, {"health", health}}})
	t0 := time.Now()
	code, at := p.exit(15 * time.Second)
	if code != 1 || at.Sub(t0) < 2500*time.Millisecond {
		t.Fatalf("exit %d after %v", code, at.Sub(t0))
	}
	if !p.hasMessage(`^PID file \S+never\.pid did not appear \(with a live PID\) within 3 s$`) {
		t.Fatal(p.log())
	}
}

func TestArbitraryUID(t *testing.T) {
	requireRoot(t)
	d := openDir(t)
	os.Chmod(d, 0o777)
	spool := filepath.Join(d, "spool")
	os.Mkdir(spool, 0o770)
	os.Chmod(spool, 0o770) // group 0 may write, as the builder lays directories out for OpenShift
	marker := filepath.Join(d, "main-ran")
	// ${HOME} is expanded after HOME is fixed: the directory lands in the HOME the processes get
	cache := "sfi-home-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { os.RemoveAll("/tmp/" + cache) })
	p := startInit(t, initOpts{dir: d, asUser: true, uid: 1234567, gid: 0, noHome: true, config: obj{
		{"tasks", []any{obj{{"ensure-dir", spool}, {"writable", true}}, obj{{"ensure-dir", "${HOME}/" + cache}}}},
		{"main", appArgv("append", marker, "0")}, {"health", health},
	}})
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("main did not run")
	}
	for _, re := range []string{
		`^HOME is not set for UID 1234567; using HOME=/tmp$`,
		`starting \(PID \d+, UID 1234567 \(not in /etc/passwd\), GID 0, HOME /tmp, config `,
		`^Task 1/2 ensure-dir \S+spool: ok \(exists, writable`,
		`^Task 2/2 ensure-dir /tmp/` + cache + `: ok \(created, writable`,
		`^Main process sfi-app \(PID \d+\) exited with code 0$`,
	} {
		if !p.hasMessage(re) {
			t.Errorf("no %s in:\n%s", re, p.log())
		}
	}
}

func TestLeftoversAreKilled(t *testing.T) {
	// the children carry a tag of this run only: other processes on the machine never count
	tag := "sfi-leftover-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	p := startInit(t, initOpts{config: obj{{"main", appArgv("children", "3", tag)}, {"health", health}, {"shutdown", obj{{"grace", "2s"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("children started", 10*time.Second)
	if n := len(pidsWithArg(tag)); n < 3 {
		t.Fatalf("%d children", n)
	}
	main := p.mainPID()
	syscall.Kill(main, syscall.SIGKILL) // the children stay behind
	if code, _ := p.exit(15 * time.Second); code != 137 {
		t.Fatalf("exit %d", code)
	}
	until(t, 3*time.Second, func() bool { return len(pidsWithArg(tag)) == 0 })
	if !p.hasMessage(`^Killed \d+ leftover process\(es\)$`) {
		t.Errorf("no leftover line:\n%s", p.log())
	}
}

// As a subreaper (and as PID 1), the init reaps the orphans of the main process.
func TestOrphansAreReaped(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("orphans", "5", "700")}, {"health", health}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	p.waitStdout("orphans made", 10*time.Second)
	initPID := p.cmd.Process.Pid
	// the grandchildren are the init's children now; after they end, none stays a zombie
	until(t, 5*time.Second, func() bool {
		n := 0
		for _, c := range children(initPID) {
			if c != p.mainPID() {
				n++
			}
		}
		return n == 0
	})
	time.Sleep(200 * time.Millisecond)
	if z := zombiesOf(initPID); z != 0 {
		t.Fatalf("%d zombies", z)
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}

func zombiesOf(parent int) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err == nil && procPPID(string(data)) == parent && procState(string(data)) == "Z" {
			n++
		}
	}
	return n
}

func TestHealthServerPortInUse(t *testing.T) {
	ln, port := listenAny(t)
	defer ln.Close()
	p := startInit(t, initOpts{config: obj{{"main", appArgv("sleep", "61.75")}, {"health", obj{{"port", port}, {"host", "127.0.0.1"}}}}})
	if code, _ := p.exit(15 * time.Second); code != 1 {
		t.Fatalf("exit %d", code)
	}
	m := p.Messages()
	if !p.hasMessage(`^health server cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE$`) || m[len(m)-1] != "State: STARTING -> ERROR" || p.hasMessage(`started \(PID`) {
		t.Fatal(p.log())
	}
	if len(pidsWithArg("61.75")) != 0 {
		t.Fatal("main started")
	}
}
