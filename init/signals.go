package main

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// Signals. The init catches the signals a container runtime or a person sends and acts on each
// once:
//   - a stop signal (SIGTERM, SIGINT, and shutdown.signal when set) starts the graceful
//     shutdown; the main process's process group then gets shutdown.signal (or, when none is
//     configured, the stop signal that arrived), once;
//   - the other signals a runtime or a person sends (SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
//     SIGWINCH, SIGALRM) go to the main process alone (its PID, or the PID from the PID file),
//     once: a reload signal must not hit the helpers of a server such as Squid, which would die
//     of it;
//   - SIGCHLD drives the reaper; SIGPIPE is caught and ignored (caught, not ignored: an ignored
//     signal would stay ignored in the processes the init starts).

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGCHLD: "SIGCHLD",
	syscall.SIGCONT: "SIGCONT", syscall.SIGSTOP: "SIGSTOP", syscall.SIGTSTP: "SIGTSTP", syscall.SIGTTIN: "SIGTTIN",
	syscall.SIGTTOU: "SIGTTOU", syscall.SIGURG: "SIGURG", syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ",
	syscall.SIGVTALRM: "SIGVTALRM", syscall.SIGPROF: "SIGPROF", syscall.SIGWINCH: "SIGWINCH", syscall.SIGIO: "SIGIO",
	syscall.SIGPWR: "SIGPWR", syscall.SIGSYS: "SIGSYS",
}

// signalName: "SIGTERM"; "SIG35" for one without a name.
func signalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return "SIG" + strconv.Itoa(int(s))
}

// signalByName: "SIGQUIT" → SIGQUIT.
func signalByName(name string) (syscall.Signal, bool) {
	for s, n := range signalNames {
		if n == name {
			return s, true
		}
	}
	return 0, false
}

// forwardedSignals are caught and passed on (or start the shutdown when they are stop signals):
// the ones container runtimes and people send. Each caught signal costs the start-up a little
// (the runtime enables it, and every fork resets it), so the list is short.
var forwardedSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
	syscall.SIGWINCH, syscall.SIGALRM,
}

// SignalChannels are where the caught signals arrive.
type SignalChannels struct {
	Chld  chan os.Signal // SIGCHLD, coalesced
	Other chan os.Signal // the forwarded and stop signals, in order
	pipe  chan os.Signal
}

// catchSignals starts catching; call before starting any process.
func catchSignals() *SignalChannels {
	s := &SignalChannels{
		Chld:  make(chan os.Signal, 1),
		Other: make(chan os.Signal, 32),
		pipe:  make(chan os.Signal, 1),
	}
	signal.Notify(s.Chld, syscall.SIGCHLD)
	signal.Notify(s.Other, forwardedSignals...)
	signal.Notify(s.pipe, syscall.SIGPIPE)
	go func() {
		for range s.pipe {
		}
	}()
	return s
}

// isStopSignal: does sig start the shutdown, given the configured shutdown.signal?
func isStopSignal(sig syscall.Signal, configured string) bool {
	if sig == syscall.SIGTERM || sig == syscall.SIGINT {
		return true
	}
	return configured != "" && signalName(sig) == configured
}
