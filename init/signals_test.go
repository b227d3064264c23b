package main

import (
	"syscall"
	"testing"
)

func TestSignalNames(t *testing.T) {
	if signalName(syscall.SIGTERM) != "SIGTERM" || signalName(syscall.Signal(40)) != "SIG40" {
		t.Error("names")
	}
	for _, n := range stopSignalNames {
		if s, ok := signalByName(n); !ok || signalName(s) != n {
			t.Errorf("%s", n)
		}
	}
	if !isStopSignal(syscall.SIGTERM, "") || !isStopSignal(syscall.SIGINT, "SIGQUIT") || !isStopSignal(syscall.SIGQUIT, "SIGQUIT") ||
		isStopSignal(syscall.SIGHUP, "") || !isStopSignal(syscall.SIGHUP, "SIGHUP") || isStopSignal(syscall.SIGUSR1, "SIGQUIT") {
		t.Error("isStopSignal")
	}
}
