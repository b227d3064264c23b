package main

import (
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Service is one run of the main process: the process the init started (a process group of
// its own) and, with pid-file, the daemon it leaves behind. Done is closed when the main process
// is gone; Status then says how it ended (for a daemon too: as the subreaper the init reaps it).

// Service is the running main process.
type Service struct {
	Name    string
	Argv    []string
	PID     int // the process the init started
	Started time.Time

	reaper   *Reaper
	pidFile  string
	pidPhase chan struct{} // closed once the PID file has been read (or given up on)
	done     chan struct{}

	mu          sync.Mutex
	daemon      int // PID from the PID file when it is another process
	daemonGroup int
	status      ExitStatus
}

// startService starts argv in a process group of its own, with the init's stdio and env.
func startService(r *Reaper, name string, argv, env []string, pidFile string) (*Service, error) {
	if pidFile != "" {
		_ = os.Remove(pidFile)
	}
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	pid, exit, err := r.Start(argv, attr)
	if err != nil {
		return nil, err
	}
	s := &Service{
		Name: name, Argv: argv, PID: pid, Started: time.Now(),
		reaper: r, pidFile: pidFile, pidPhase: make(chan struct{}), done: make(chan struct{}),
	}
	if pidFile == "" {
		close(s.pidPhase)
	}
	go s.wait(exit)
	return s, nil
}

func (s *Service) wait(exit <-chan ExitStatus) {
	st := <-exit
	if s.pidFile == "" || st.Code != 0 || st.Signal != 0 {
		s.finish(st)
		return
	}
	// a launcher that exited 0: the main process is the daemon its PID file names
	<-s.pidPhase
	d := s.Daemon()
	if d == 0 || d == s.PID {
		s.finish(st)
		return
	}
	s.finish(s.waitDaemon(d))
}

// waitDaemon waits for a process the init may or may not be the parent (subreaper) of.
func (s *Service) waitDaemon(pid int) ExitStatus {
	ch, _ := s.reaper.Watch(pid)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	gone := 0
	for {
		select {
		case st := <-ch:
			return st
		case <-tick.C:
			if procAlive(pid) {
				gone = 0
				continue
			}
			if gone++; gone >= 3 { // a zombie of another parent, or gone without our knowing
				s.reaper.Unwatch(pid)
				return ExitStatus{Code: -1, Detail: sprintf("process %d from the PID file is gone", pid)}
			}
		}
	}
}

func (s *Service) finish(st ExitStatus) {
	s.mu.Lock()
	s.status = st
	s.mu.Unlock()
	close(s.done)
}

// Done is closed when the main process is gone.
func (s *Service) Done() <-chan struct{} { return s.done }

// Alive: not gone yet.
func (s *Service) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Status is how the main process ended (valid once Done is closed).
func (s *Service) Status() ExitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Daemon is the PID from the PID file, 0 when none (yet).
func (s *Service) Daemon() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.daemon
}

// MainPID is the PID the main process is known by: the daemon's, else the started process's.
func (s *Service) MainPID() int {
	if d := s.Daemon(); d != 0 {
		return d
	}
	return s.PID
}

// Label: "squid (PID 16)".
func (s *Service) Label() string {
	return sprintf("%s (PID %d)", s.Name, s.MainPID())
}

var pidFileRE = lazyRegexp(`^\s*([0-9]+)\s*$`)

func readPidFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	m := pidFileRE().FindSubmatch(data)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// followPidFile polls the PID file every 100 ms for 3 s until it names a live process, the
// started process fails, or stop closes. Returns the PID found (0 when none).
func (s *Service) followPidFile(stop <-chan struct{}) int {
	defer close(s.pidPhase)
	for i := 0; i < 30; i++ {
		select {
		case <-s.done:
			return 0
		case <-stop:
			return 0
		case <-time.After(100 * time.Millisecond):
		}
		if pid := readPidFile(s.pidFile); pid > 0 && procAlive(pid) {
			group, err := syscall.Getpgid(pid)
			if err != nil {
				group = pid
			}
			s.mu.Lock()
			if pid != s.PID {
				s.daemon, s.daemonGroup = pid, group
			}
			s.mu.Unlock()
			return pid
		}
	}
	return 0
}

// group is the process group the main process is in.
func (s *Service) group() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.daemon != 0 {
		return s.daemonGroup
	}
	return s.PID
}

// Groups lists the process groups the main process has used (to kill leftovers).
func (s *Service) Groups() []int {
	g := []int{s.PID}
	if d := s.group(); d != s.PID {
		g = append(g, d)
	}
	return g
}

// SignalGroup sends sig to the main process's process group, once (the main process alone
// when its group is the init's own).
func (s *Service) SignalGroup(sig syscall.Signal) {
	pid, group := s.MainPID(), s.group()
	if group <= 1 || group == syscall.Getpgrp() {
		_ = syscall.Kill(pid, sig)
		return
	}
	if err := syscall.Kill(-group, sig); err != nil {
		_ = syscall.Kill(pid, sig)
	}
}

// Signal sends sig to the main process alone, once.
func (s *Service) Signal(sig syscall.Signal) {
	if s.Alive() {
		_ = syscall.Kill(s.MainPID(), sig)
	}
}
