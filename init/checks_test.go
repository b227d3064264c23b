package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProbes(t *testing.T) {
	ln, port := listenAny(t)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if r := tcpCheck(addr, time.Second); !r.OK || r.Detail != "tcp "+addr+": connected" {
		t.Errorf("tcp %+v", r)
	}
	if r := httpCheck("http://"+addr+"/x", time.Second); !r.OK || r.Detail != "http http://"+addr+"/x: 302" {
		t.Errorf("http %+v", r)
	}
	closed := "127.0.0.1:" + strconv.Itoa(freePort(t))
	if r := tcpCheck(closed, time.Second); r.OK || r.Detail != "tcp "+closed+": ECONNREFUSED" {
		t.Errorf("refused %+v", r)
	}
	if r := httpCheck("http://"+closed+"/", time.Second); r.OK || !strings.HasSuffix(r.Detail, ": ECONNREFUSED") {
		t.Errorf("http refused %+v", r)
	}
	// a server that accepts and says nothing
	silent, sport := listenAny(t)
	defer silent.Close()
	if r := httpCheck("http://127.0.0.1:"+strconv.Itoa(sport)+"/", 200*time.Millisecond); r.OK || !strings.HasSuffix(r.Detail, "no answer within 200 ms") {
		t.Errorf("silent %+v", r)
	}
	reaper := testReaper(t)
	if r := execCheck(reaper, os.Environ(), []string{"true"}, time.Second); !r.OK || r.Detail != "exec true: exit code 0" {
		t.Errorf("exec %+v", r)
	}
	if r := execCheck(reaper, os.Environ(), []string{"false"}, time.Second); r.OK || r.Detail != "exec false: exit code 1" {
		t.Errorf("exec false %+v", r)
	}
	if r := execCheck(reaper, os.Environ(), []string{"sleep", "5"}, 100*time.Millisecond); r.OK || r.Detail != "exec sleep: no result within 100 ms" {
		t.Errorf("exec slow %+v", r)
	}
	if r := execCheck(reaper, os.Environ(), []string{"/no/such"}, time.Second); r.OK || r.Detail != "exec /no/such: ENOENT" {
		t.Errorf("exec missing %+v", r)
	}
}

// testReaper is a Reaper for tests that run in the test process itself: it waits only for the
// processes it started (wait4(-1) would take the exit statuses of the inits other tests run).
func testReaper(t *testing.T) *Reaper {
	t.Helper()
	r := &Reaper{watch: map[int]chan ExitStatus{}, recent: map[int]reaped{}}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			r.mu.Lock()
			for pid, ch := range r.watch {
				var ws syscall.WaitStatus
				if n, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err == nil && n == pid {
					delete(r.watch, pid)
					ch <- statusOf(ws)
				}
			}
			r.mu.Unlock()
		}
	}()
	return r
}

func TestCheckStates(t *testing.T) {
	var b strings.Builder
	log := NewLogger(&b, "text")
	c := newChecks([]HealthCheck{{Name: "r", Level: "ready", Threshold: 2}, {Name: "a", Level: "alive", Threshold: 1}}, log, nil, nil, nil)
	if got := c.Down("ready", "alive"); strings.Join(got, ",") != "r" {
		t.Fatalf("initially down: %v (ready down until it passes, alive up)", got)
	}
	c.record(0, c.gen, CheckResult{true, "ok"})
	c.record(0, c.gen, CheckResult{false, "bad"})
	if len(c.Down("ready")) != 0 {
		t.Fatal("down after 1 failure with threshold 2")
	}
	c.record(0, c.gen, CheckResult{false, "bad"})
	if strings.Join(c.Down("ready"), ",") != "r" {
		t.Fatal("up after 2 failures")
	}
	c.record(1, c.gen, CheckResult{false, "gone"})
	if strings.Join(c.Down("alive"), ",") != "a" {
		t.Fatal("alive check up after a failure (threshold 1)")
	}
	old := c.gen
	c.Restarted(time.Now())
	c.record(1, old, CheckResult{true, "stale"}) // a result from before the restart is dropped
	if strings.Join(c.Down("ready", "alive"), ",") != "r" {
		t.Fatalf("after restart: %v", c.Down("ready", "alive"))
	}
	if got := string(c.Body("ready").json()); got != `{"r":{"level":"ready","status":"down","failures":0,"detail":""}}` {
		t.Errorf("body %s", got)
	}
	for _, want := range []string{"Check r (ready) is up: ok", "Check r (ready) is down after 2 failure(s) in a row: bad", "Check a (alive) is down after 1 failure(s) in a row: gone"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, b.String())
		}
	}
}

func TestPeriodicChecksGateReadyAndLive(t *testing.T) {
	d := t.TempDir()
	readyFlag, aliveFlag := filepath.Join(d, "ready"), filepath.Join(d, "alive")
	os.WriteFile(aliveFlag, nil, 0o644)
	appPort := freePort(t)
	p := startInit(t, initOpts{dir: d, config: obj{
		{"main", appArgv("listen", strconv.Itoa(appPort), "300")},
		{"health", obj{{"port", 0}, {"host", "127.0.0.1"}, {"checks", obj{
			{"port", obj{{"tcp", "127.0.0.1:" + strconv.Itoa(appPort)}, {"period", "200ms"}}},
			{"flag", obj{{"exec", []string{"test", "-e", readyFlag}}, {"period", "200ms"}, {"threshold", 1}}},
			{"heart", obj{{"level", "alive"}, {"exec", []string{"test", "-e", aliveFlag}}, {"period", "100ms"}, {"threshold", 2}}},
		}}}},
	}})
	port := p.port()
	p.waitLine(`Check port \(ready\) is up: tcp 127\.0\.0\.1:\d+: connected`, 5*time.Second)
	r := get(t, port, "/ready")
	if r.status != 503 || jsonField(t, r.body, "reason") != "check(s) down: flag" {
		t.Fatalf("ready with flag down: %d %s", r.status, r.body)
	}
	os.WriteFile(readyFlag, nil, 0o644)
	until(t, 3*time.Second, func() bool { return get(t, port, "/ready").status == 200 })
	p.waitLine(`Ready \(checks up: port, flag, heart; \d+ ms after start\)`, 3*time.Second)
	if l := get(t, port, "/live"); l.status != 200 || !strings.Contains(l.body, `"checks":{"heart":{"level":"alive","status":"up"`) {
		t.Fatalf("live %d %s", l.status, l.body)
	}
	os.Remove(aliveFlag)
	until(t, 3*time.Second, func() bool { return get(t, port, "/live").status == 503 })
	l := get(t, port, "/live")
	if jsonField(t, l.body, "reason") != "check(s) down: heart" || get(t, port, "/ready").status != 503 {
		t.Fatalf("live %s", l.body)
	}
	p.waitLine(`\[WARN\] Check heart \(alive\) is down after 2 failure\(s\) in a row: exec test: exit code 1`, time.Second)
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}
