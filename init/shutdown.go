package main

import (
	"syscall"
	"time"
)

// The graceful stop: /ready answers 503 at once (SHUTTING_DOWN); after `drain` the main
// process's group gets the stop signal (shutdown.signal, else the one that arrived), once; after
// `grace` it gets SIGKILL. Exit code: 0 when the main process ended because of the signal (or
// with 0), its own code otherwise, 137 when it had to be killed.

func waitDone(svc *Service, d time.Duration) bool {
	if !svc.Alive() {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-svc.Done():
		return true
	case <-t.C:
		return false
	}
}

func (s *Supervisor) shutdown(svc *Service) int {
	s.transition(ShuttingDown)
	s.mu.Lock()
	received := s.stopSig
	s.mu.Unlock()
	drain, grace := s.cfg.Drain(), s.cfg.Grace()
	msg := "Readiness is now 503 (not-ready)"
	if drain > 0 {
		msg += sprintf("; draining for %d ms", ms(drain))
	}
	s.log.Info(msg, F("drainMs", ms(drain)))
	if drain > 0 {
		waitDone(svc, drain)
	}
	sig := received
	if name := s.configuredStopSignal(); name != "" {
		sig, _ = signalByName(name)
	}
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	forced := false
	if svc.Alive() {
		s.log.Info(sprintf("Sending %s to the process group of main process %s; grace %d ms", signalName(sig), svc.Label(), ms(grace)),
			F("signal", signalName(sig)), F("pid", svc.MainPID()), F("graceMs", ms(grace)))
		svc.SignalGroup(sig)
		if !waitDone(svc, grace) {
			s.log.Warn(sprintf("Main process %s did not exit within %d ms; sending SIGKILL", svc.Label(), ms(grace)))
			svc.SignalGroup(syscall.SIGKILL)
			forced = true
			waitDone(svc, 5*time.Second)
		}
	}
	var st ExitStatus
	if svc.Alive() {
		st = ExitStatus{Code: -1, Signal: syscall.SIGKILL, Detail: "still alive after SIGKILL"}
	} else {
		st = svc.Status()
	}
	var code int
	switch {
	case forced:
		code = 128 + int(syscall.SIGKILL)
	case st.Detail != "", st.Signal == sig, st.Signal == 0 && (st.Code == 0 || st.Code == 128+int(sig)):
		code = 0
	default:
		code = st.ExitCode()
	}
	s.log.Info(sprintf("Main process %s stopped: %s", svc.Label(), st.Describe()), F("exitCode", st.Code), F("signal", signalOrNil(st.Signal)))
	s.log.Info(sprintf("Shutdown complete (exit code %d)", code), F("exitCode", code))
	return s.finish(code, Exited)
}

func signalOrNil(sig syscall.Signal) any {
	if sig == 0 {
		return nil
	}
	return signalName(sig)
}
