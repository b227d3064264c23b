package main

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The supervisor: INITIALIZING → VALIDATING → PREPARING → STARTING → RUNNING → SHUTTING_DOWN →
// EXITED (or ERROR); see STATES.md. It runs the tasks, starts the health server and the main
// process (a process group of its own), restarts it on failure if asked, answers /live and
// /ready, acts on signals (signals.go) and shuts down gracefully (shutdown.go).

// Supervisor runs one configuration.
type Supervisor struct {
	cfg    *Config
	source string
	log    *Logger
	reaper *Reaper
	sigs   <-chan os.Signal
	uid    int
	gid    int
	t0     time.Time

	mu        sync.Mutex
	state     State
	main      *Service
	stopSig   syscall.Signal // the first stop signal received
	stopCh    chan struct{}  // closed when a stop signal arrives
	everReady bool
	restarts  int
	groups    []int
	checks    *Checks

	rmu     sync.Mutex // the on-demand health.ready check
	rcache  *readyFlight
	rflight *readyFlight
}

type readyFlight struct {
	done chan struct{}
	at   time.Time
	r    CheckResult
}

func newSupervisor(cfg *Config, source string, log *Logger, r *Reaper, sigs <-chan os.Signal) *Supervisor {
	return &Supervisor{
		cfg: cfg, source: source, log: log, reaper: r, sigs: sigs,
		uid: os.Getuid(), gid: os.Getgid(), t0: time.Now(),
		state: Initializing, stopCh: make(chan struct{}),
	}
}

func (s *Supervisor) env() []string { return os.Environ() }

func (s *Supervisor) stopRequested() bool {
	select {
	case <-s.stopCh:
		return true
	default:
		return false
	}
}

func (s *Supervisor) currentMain() *Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.main
}

// Run runs everything and returns the init's exit code.
func (s *Supervisor) Run() (code int) {
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 4096)
			where := strings.Join(strings.Fields(string(buf[:runtime.Stack(buf, false)])), " ")
			if len(where) > 300 {
				where = where[:300]
			}
			s.log.Error(sprintf("internal error in shellfree-init: %v (%s)", r, where))
			s.reaper.KillLeftovers(s.allGroups())
			code = 70
		}
	}()
	go s.handleSignals()
	// the health port is bound while the rest gets ready (it must be ours before the main
	// process starts: a port in use is a start-up failure that never starts it)
	type bound struct {
		hs  *HealthServer
		err error
	}
	host, port := s.cfg.HealthHost(), s.cfg.HealthPort()
	listened := make(chan bound, 1)
	go func() {
		hs, err := listenHealth(host, port)
		listened <- bound{hs, err}
	}()
	defer func() {
		select { // not used (a stop or failure before STARTING): let the port go
		case b := <-listened:
			if b.hs != nil {
				b.hs.Close()
			}
		default:
		}
	}()
	fixHome(s.log, s.uid)
	user := userName(s.uid)
	who := sprintf("(%s)", user)
	if user == "" {
		who = "(not in /etc/passwd)"
	}
	s.log.Info(sprintf("shellfree-init %s starting (PID %d, UID %d %s, GID %d, HOME %s, config %s)",
		version, os.Getpid(), s.uid, who, s.gid, os.Getenv("HOME"), s.source),
		F("version", version), F("pid", os.Getpid()), F("uid", s.uid), F("gid", s.gid), F("user", nullable(user)),
		F("home", os.Getenv("HOME")), F("config", s.source))
	if s.stopRequested() {
		return s.stoppedBeforeRunning()
	}

	// VALIDATING / PREPARING: the tasks, in order
	s.transition(Validating)
	ctx := &TaskContext{Reaper: s.reaper, Env: s.env(), UID: s.uid, GID: s.gid, Stop: s.stopCh}
	for i := range s.cfg.Tasks {
		t := &s.cfg.Tasks[i]
		if s.State() == Validating && t.Kind != "validate" && t.Kind != "ensure-dir" {
			s.transition(Preparing)
		}
		if s.stopRequested() {
			return s.stoppedBeforeRunning()
		}
		label := sprintf("Task %d/%d %s", i+1, len(s.cfg.Tasks), t.Describe())
		started := time.Now()
		out, err := RunTask(t, ctx)
		if err != nil {
			if errors.Is(err, errTaskStopped) || s.stopRequested() {
				return s.stoppedBeforeRunning()
			}
			var te *TaskError
			if errors.As(err, &te) {
				return s.failStartup(label+": failed: "+te.Msg, te.Output)
			}
			return s.failStartup(label + ": failed: " + err.Error())
		}
		status := "ok"
		if out.Skipped {
			status = "skipped"
		}
		s.log.Info(sprintf("%s: %s (%s; %d ms)", label, status, out.Detail, ms(time.Since(started))),
			F("task", i+1), F("kind", t.Kind), F("status", status))
	}
	if s.State() == Validating {
		s.transition(Preparing)
	}
	if s.stopRequested() {
		return s.stoppedBeforeRunning()
	}

	// STARTING: the health server, then the main process
	s.transition(Starting)
	b := <-listened
	hs, err := b.hs, b.err
	if err != nil {
		return s.failStartup(sprintf("health server cannot listen on %s:%d: %s", host, port, errCode(err)))
	}
	go hs.Serve(s)
	s.log.Info(sprintf("Health server listening on http://%s:%d (/live, /ready, /health)", host, hs.Port()),
		F("host", host), F("port", hs.Port()))
	if hc := s.cfg.Health; hc != nil && len(hc.Checks) > 0 {
		s.checks = newChecks(hc.Checks, s.log, s.reaper, s.env(), func() { s.Ready() })
	}
	return s.supervise()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// supervise starts the main process and watches it until the end: restarts, shutdown.
func (s *Supervisor) supervise() int {
	for {
		if s.stopRequested() {
			return s.stoppedBeforeRunning()
		}
		svc, err := startService(s.reaper, s.cfg.Name(), s.cfg.Main, s.env(), s.cfg.PIDFile)
		if err != nil {
			return s.failStartup(sprintf("cannot start main process %s: %s", s.cfg.Main[0], errCode(err)))
		}
		s.mu.Lock()
		s.main, s.everReady = svc, false
		s.groups = append(s.groups, svc.PID)
		s.mu.Unlock()
		s.rmu.Lock()
		s.rcache = nil
		s.rmu.Unlock()
		s.log.Info(sprintf("Main process %s started (PID %d): %s", svc.Name, svc.PID, strings.Join(svc.Argv, " ")),
			F("name", svc.Name), F("pid", svc.PID), F("argv", svc.Argv))
		if pf := s.cfg.PIDFile; pf != "" {
			if pid := svc.followPidFile(s.stopCh); pid > 0 {
				s.mu.Lock()
				s.groups = append(s.groups, svc.Groups()...)
				s.mu.Unlock()
				s.log.Info(sprintf("PID file %s: main process PID %d", pf, pid), F("pid", pid))
			} else if svc.Alive() && !s.stopRequested() {
				return s.failStartup(sprintf("PID file %s did not appear (with a live PID) within 3 s", pf))
			}
		}
		if s.stopRequested() {
			return s.shutdown(svc)
		}
		if svc.Alive() {
			s.transition(Running)
			if s.checks != nil {
				if s.restartsSoFar() == 0 {
					s.checks.Start(svc.Started)
				} else {
					s.checks.Restarted(svc.Started)
				}
			}
			go s.watchReady(svc)
			select {
			case <-s.stopCh:
				return s.shutdown(svc)
			case <-svc.Done():
			}
		}
		if code, again := s.mainEnded(svc); !again {
			return code
		}
	}
}

func (s *Supervisor) restartsSoFar() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// mainEnded handles a main process that ended by itself: exit, or restart (again = true).
func (s *Supervisor) mainEnded(svc *Service) (code int, again bool) {
	st := svc.Status()
	code = st.ExitCode()
	if code == 0 {
		s.log.Info(sprintf("Main process %s exited with code 0", svc.Label()), F("name", svc.Name), F("pid", svc.MainPID()), F("exitCode", 0))
		return s.finish(0, Exited), false
	}
	fields := []Field{F("name", svc.Name), F("pid", svc.MainPID()), F("exitCode", code)}
	if st.Signal != 0 {
		fields = append(fields, F("signal", signalName(st.Signal)))
	}
	s.log.Error(sprintf("Main process %s died: %s", svc.Label(), st.Describe()), fields...)
	r := s.cfg.Restart
	max := 5
	if r != nil && r.MaxRestarts != nil {
		max = *r.MaxRestarts
	}
	if r != nil && r.Policy == "on-failure" && s.restartsSoFar() < max {
		s.mu.Lock()
		s.restarts++
		n := s.restarts
		s.mu.Unlock()
		base := time.Second
		if r.Backoff != nil {
			base = r.Backoff.D
		}
		delay := base
		for i := 1; i < n && delay < time.Minute; i++ {
			delay *= 2
		}
		delay = min(delay, time.Minute)
		s.log.Warn(sprintf("Restarting main process in %d ms (restart %d of %d)", ms(delay), n, max),
			F("restart", n), F("delayMs", ms(delay)))
		if s.State() != Starting {
			s.transition(Starting)
		}
		select {
		case <-time.After(delay):
		case <-s.stopCh:
			s.log.Info("Shutdown requested while waiting to restart; not restarting")
			s.transition(ShuttingDown)
			s.log.Info(sprintf("Shutdown complete (exit code %d)", code), F("exitCode", code))
			return s.finish(code, Exited), false
		}
		return 0, true
	}
	if r != nil && r.Policy == "on-failure" {
		s.log.Error(sprintf("Giving up after %d restart(s)", s.restartsSoFar()))
	}
	s.log.Error(sprintf("Exiting with the main process's code %d", code), F("exitCode", code))
	return s.finish(code, Failed), false
}

func (s *Supervisor) allGroups() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.groups...)
}

// finish leaves nothing of the main process behind, enters the final state and returns code.
func (s *Supervisor) finish(code int, final State) int {
	if s.checks != nil {
		s.checks.Stop()
	}
	if n := s.reaper.KillLeftovers(s.allGroups()); n > 0 {
		s.log.Info(sprintf("Killed %d leftover process(es)", n), F("killed", n))
	}
	s.transition(final)
	return code
}

// failStartup: one error line (and the output of a failed command), everything killed, exit 1.
func (s *Supervisor) failStartup(msg string, output ...string) int {
	s.log.Error(msg)
	for _, o := range output {
		if o == "" {
			continue
		}
		for _, line := range strings.Split(strings.ReplaceAll(o, "\r\n", "\n"), "\n") {
			s.log.Error("  | " + line)
		}
	}
	return s.finish(1, Failed)
}

func (s *Supervisor) stoppedBeforeRunning() int {
	s.mu.Lock()
	sig := s.stopSig
	s.mu.Unlock()
	s.log.Info(sprintf("Stopped by %s before the main process started", signalName(sig)))
	s.transition(ShuttingDown)
	s.log.Info("Shutdown complete (exit code 0)", F("exitCode", 0))
	return s.finish(0, Exited)
}

// handleSignals acts on every caught signal (signals.go says how).
func (s *Supervisor) handleSignals() {
	for sig := range s.sigs {
		s.onSignal(sig.(syscall.Signal))
	}
}

func (s *Supervisor) configuredStopSignal() string {
	if s.cfg.Shutdown == nil {
		return ""
	}
	return s.cfg.Shutdown.Signal
}

func (s *Supervisor) onSignal(sig syscall.Signal) {
	name := signalName(sig)
	if isStopSignal(sig, s.configuredStopSignal()) {
		s.mu.Lock()
		again := s.stopSig != 0 || s.state == ShuttingDown || s.state.Final()
		if !again {
			s.stopSig = sig
		}
		s.mu.Unlock()
		if again {
			s.log.Info(sprintf("Received signal %s again; shutdown already in progress, still waiting", name), F("signal", name))
			return
		}
		s.log.Info("Received signal "+name, F("signal", name))
		close(s.stopCh)
		return
	}
	svc := s.currentMain()
	if svc == nil || !svc.Alive() {
		s.log.Info(sprintf("Received signal %s; no main process to forward it to", name), F("signal", name))
		return
	}
	reload := ""
	if sig == syscall.SIGHUP {
		reload = " (reload)"
	}
	s.log.Info(sprintf("Received signal %s; forwarding to main process %s%s", name, svc.Label(), reload),
		F("signal", name), F("pid", svc.MainPID()))
	svc.Signal(sig)
}

// Live answers /live: the init runs; no alive-level check is down.
func (s *Supervisor) Live() HealthAnswer {
	body := obj{{"state", string(s.State())}, {"uptimeMs", ms(time.Since(s.t0))}}
	if s.checks == nil {
		return HealthAnswer{true, body}
	}
	checks := s.checks.Body("alive")
	if len(checks) > 0 {
		body = append(body, F("checks", checks))
	}
	if down := s.checks.Down("alive"); len(down) > 0 {
		return HealthAnswer{false, append(body, F("reason", "check(s) down: "+strings.Join(down, ", ")))}
	}
	return HealthAnswer{true, body}
}

// Ready answers /ready: RUNNING, the main process alive, every ready- and alive-level check up
// and the health.ready check passing.
func (s *Supervisor) Ready() HealthAnswer {
	s.mu.Lock()
	state, svc := s.state, s.main
	s.mu.Unlock()
	mainBody := obj{{"pid", nil}, {"running", false}}
	running := false
	if svc != nil {
		running = svc.Alive()
		mainBody = obj{{"pid", svc.MainPID()}, {"running", running}, {"name", svc.Name}}
	}
	body := obj{{"state", string(state)}, {"main", mainBody}}
	var checks obj
	if s.checks != nil {
		checks = s.checks.Body("ready", "alive")
	}
	answer := func(ok bool, extra ...Field) HealthAnswer {
		b := append(append(obj{}, body...), extra...)
		if len(checks) > 0 {
			b = append(b, F("checks", checks))
		}
		return HealthAnswer{ok, b}
	}
	if state != Running {
		reason := "state " + string(state)
		if state == ShuttingDown {
			reason = "shutting down"
		}
		return answer(false, F("reason", reason))
	}
	if !running {
		return answer(false, F("reason", "main process not running"))
	}
	if s.checks != nil {
		if down := s.checks.Down("ready", "alive"); len(down) > 0 {
			return answer(false, F("reason", "check(s) down: "+strings.Join(down, ", ")))
		}
	}
	detail := "main process running"
	if s.checks != nil {
		names := make([]string, len(s.cfg.Health.Checks))
		for i, c := range s.cfg.Health.Checks {
			names[i] = c.Name
		}
		detail = "checks up: " + strings.Join(names, ", ")
	}
	if s.cfg.Health != nil && s.cfg.Health.Ready != nil {
		r := s.readyCheck(s.cfg.Health.Ready)
		if now := s.State(); now != Running { // it may have changed while the check ran
			body = body.with("state", string(now))
			return answer(false, F("reason", "shutting down"))
		}
		if !r.OK {
			return answer(false, F("reason", "readiness check failed"), F("check", r.Detail))
		}
		detail = r.Detail
	}
	s.markReady(svc, detail)
	return answer(true, F("check", detail))
}

// readyCheck runs the health.ready check: a pass is trusted for 1 s; a failure is not kept
// (requests arriving meanwhile share one run), so /ready turns 200 as soon as the app is ready.
func (s *Supervisor) readyCheck(rc *ReadyCheck) CheckResult {
	s.rmu.Lock()
	if c := s.rcache; c != nil && c.r.OK && time.Since(c.at) < time.Second {
		s.rmu.Unlock()
		return c.r
	}
	f := s.rflight
	if f == nil {
		f = &readyFlight{done: make(chan struct{})}
		s.rflight = f
		timeout := time.Second
		if rc.Timeout != nil {
			timeout = rc.Timeout.D
		}
		go func() {
			r := runProbe(rc.Probe, s.reaper, s.env(), timeout)
			s.rmu.Lock()
			f.r, f.at = r, time.Now()
			s.rcache, s.rflight = f, nil
			s.rmu.Unlock()
			close(f.done)
		}()
	}
	s.rmu.Unlock()
	<-f.done
	return f.r
}

func (s *Supervisor) markReady(svc *Service, detail string) {
	s.mu.Lock()
	if s.everReady || s.main != svc {
		s.mu.Unlock()
		return
	}
	s.everReady = true
	s.mu.Unlock()
	s.log.Info(sprintf("Ready (%s; %d ms after start)", detail, ms(time.Since(svc.Started))))
}

// watchReady evaluates readiness after a start, so that "Ready" is logged when nobody asks.
func (s *Supervisor) watchReady(svc *Service) {
	for {
		s.mu.Lock()
		done := s.state != Running || s.main != svc || s.everReady
		s.mu.Unlock()
		if done {
			return
		}
		s.Ready()
		time.Sleep(fastPoll(time.Since(svc.Started)))
	}
}
