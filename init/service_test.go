package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadPidFile(t *testing.T) {
	d := t.TempDir()
	f := filepath.Join(d, "x.pid")
	for text, want := range map[string]int{"123\n": 123, "  42  ": 42, "12a": 0, "": 0, "1\n2\n": 0} {
		os.WriteFile(f, []byte(text), 0o644)
		if got := readPidFile(f); got != want {
			t.Errorf("%q: %d", text, got)
		}
	}
	if readPidFile(filepath.Join(d, "missing")) != 0 {
		t.Error("missing file")
	}
}

func TestServiceLabelAndGroups(t *testing.T) {
	s := &Service{Name: "squid", PID: 16, done: make(chan struct{})}
	if s.Label() != "squid (PID 16)" || len(s.Groups()) != 1 || !s.Alive() {
		t.Error(s.Label())
	}
	s.daemon, s.daemonGroup = 20, 20
	if s.Label() != "squid (PID 20)" || s.MainPID() != 20 || len(s.Groups()) != 2 {
		t.Error(s.Label(), s.Groups())
	}
	s.finish(ExitStatus{Code: 2})
	if s.Alive() || s.Status().Code != 2 {
		t.Error("finish")
	}
}
