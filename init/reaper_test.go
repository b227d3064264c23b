package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestLookPath(t *testing.T) {
	if p, err := lookPath("sh", []string{"PATH=/nonexistent:/bin"}); err != nil || p != "/bin/sh" {
		t.Errorf("%s %v", p, err)
	}
	if _, err := lookPath("no-such-program", []string{"PATH=/bin"}); err != syscall.ENOENT {
		t.Errorf("%v", err)
	}
	if p, _ := lookPath("./x", nil); p != "./x" {
		t.Error("a path is used as it is")
	}
	d := t.TempDir()
	os.WriteFile(d+"/prog", nil, 0o644)
	if _, err := lookPath("prog", []string{"PATH=" + d}); err != syscall.EACCES && os.Getuid() != 0 {
		t.Errorf("not executable: %v", err)
	}
}

func TestProcHelpers(t *testing.T) {
	if !procAlive(os.Getpid()) || procAlive(0) {
		t.Error("procAlive self")
	}
	c := exec.Command("true")
	c.Run()
	if procAlive(c.Process.Pid) {
		t.Error("a reaped child is alive")
	}
	stat := "123 (a (b) c) S 45 67 67 0"
	if procState(stat) != "S" || procPPID(stat) != 45 || procGroup(stat) != 67 {
		t.Errorf("%s %d %d", procState(stat), procPPID(stat), procGroup(stat))
	}
	if kids := children(os.Getppid()); len(kids) == 0 {
		t.Error("our parent has no children?")
	}
}

func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		st   ExitStatus
		desc string
		code int
	}{
		{ExitStatus{Code: 0}, "exited with code 0", 0},
		{ExitStatus{Code: 7}, "exited with code 7", 7},
		{ExitStatus{Code: -1, Signal: syscall.SIGKILL}, "killed by SIGKILL", 137},
		{ExitStatus{Code: -1, Detail: "process 9 from the PID file is gone"}, "process 9 from the PID file is gone", 1},
	} {
		if c.st.Describe() != c.desc || c.st.ExitCode() != c.code {
			t.Errorf("%+v: %s %d", c.st, c.st.Describe(), c.st.ExitCode())
		}
	}
}

func TestReaperStartAndWatch(t *testing.T) {
	r := testReaper(t)
	pid, exit, err := r.Start([]string{"sh", "-c", "exit 3"}, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil || pid <= 0 {
		t.Fatal(err)
	}
	if st := <-exit; st.Code != 3 {
		t.Errorf("%+v", st)
	}
	if _, _, err := r.Start([]string{"/no/such"}, &syscall.ProcAttr{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("%v", err)
	}
	r.recent[99999] = reaped{status: ExitStatus{Code: 5}}
	if ch, done := r.Watch(99999); !done || (<-ch).Code != 5 {
		t.Error("Watch of a reaped orphan")
	}
	r.Unwatch(99998)
}
