package main

import (
	"syscall"
	"testing"
	"time"
)

// A main process that ends with its own code on the stop signal: that code, not 0.
func TestShutdownKeepsAnUnexpectedCode(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", []string{"sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"}}, {"health", health}, {"shutdown", obj{{"grace", "5s"}}}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 3 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	p.assertOrder(`^Main process sh \(PID \d+\) stopped: exited with code 3$`, `^Shutdown complete \(exit code 3\)$`)
}

// 128 + the stop signal, as a shell reports a child killed by it, counts as a clean stop.
func TestShutdownAccepts128PlusSignal(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", []string{"sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.05; done"}}, {"health", health}}})
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}

func TestWaitDone(t *testing.T) {
	s := &Service{done: make(chan struct{})}
	if waitDone(s, 10*time.Millisecond) {
		t.Error("not done")
	}
	s.finish(ExitStatus{})
	if !waitDone(s, time.Hour) {
		t.Error("done")
	}
}
