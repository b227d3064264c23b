package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseProbeArgs(t *testing.T) {
	d := t.TempDir()
	env := func(m map[string]string) func(string) string {
		return func(k string) string {
			if k == "SHELLFREE_INIT_CONFIG" && m[k] == "" {
				return "/nonexistent/init.json"
			}
			return m[k]
		}
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want ProbeOptions
	}{
		{nil, nil, ProbeOptions{"/ready", "127.0.0.1", 8080, 2000}},
		{[]string{"/live", "--port", "81", "--timeout=500"}, nil, ProbeOptions{"/live", "127.0.0.1", 81, 500}},
		{[]string{"health"}, nil, ProbeOptions{"/health", "127.0.0.1", 8080, 2000}},
		{nil, map[string]string{"SHELLFREE_HEALTH_PORT": "9001"}, ProbeOptions{"/ready", "127.0.0.1", 9001, 2000}},
		{[]string{"--host", "::"}, nil, ProbeOptions{"/ready", "::1", 8080, 2000}},
	} {
		got, err := parseProbeArgs(c.args, env(c.env))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v %v: %+v %v", c.args, c.env, got, err)
		}
	}
	f := filepath.Join(d, "init.json")
	os.WriteFile(f, []byte(`{"main":["/a"],"health":{"port":9002,"host":"0.0.0.0"}}`), 0o644)
	if got, _ := parseProbeArgs(nil, env(map[string]string{"SHELLFREE_INIT_CONFIG": f})); got != (ProbeOptions{"/ready", "127.0.0.1", 9002, 2000}) {
		t.Errorf("from config: %+v", got)
	}
	for args, want := range map[string]string{
		"--port x":     `--port needs an integer up to 65535, got "x"`,
		"--port 70000": `--port needs an integer up to 65535, got "70000"`,
		"--port":       `--port needs an integer up to 65535, got nothing`,
		"--bogus":      "unknown probe argument --bogus",
		"--port 0":     "health port is 0 (ephemeral): give --port",
	} {
		if _, err := parseProbeArgs(strings.Fields(args), env(nil)); err == nil || err.Error() != want {
			t.Errorf("%s: %v", args, err)
		}
	}
}

func TestProbeCommand(t *testing.T) {
	d := t.TempDir()
	flag := filepath.Join(d, "ready")
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("sleep")}, {"health", obj{{"port", 0}, {"host", "127.0.0.1"}, {"ready", obj{{"exec", []string{"test", "-e", flag}}}}}}}})
	port := strconv.Itoa(p.port())
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	probe := func(env []string, args ...string) (int, string, string, time.Duration) {
		c := exec.Command(testExe, append([]string{"probe"}, args...)...)
		c.Env = append([]string{"SFI_ROLE=init", "SHELLFREE_INIT_CONFIG=/nonexistent"}, env...)
		var out, errb strings.Builder
		c.Stdout, c.Stderr = &out, &errb
		t0 := time.Now()
		c.Run()
		return c.ProcessState.ExitCode(), out.String(), errb.String(), time.Since(t0)
	}
	if code, out, _, _ := probe(nil, "/ready", "--port", port); code != 1 || out != "/ready: 503 not ok (HTTP/1.1 503 Service Unavailable)\n" {
		t.Errorf("not ready: %d %q", code, out)
	}
	if code, _, _, _ := probe(nil, "/live", "--port", port); code != 0 {
		t.Errorf("live: %d", code)
	}
	os.WriteFile(flag, nil, 0o644)
	until(t, 5*time.Second, func() bool { return get(t, int(mustAtof(port)), "/ready").status == 200 })
	best := time.Hour
	for i := 0; i < 9; i++ {
		code, out, _, took := probe(nil, "/ready", "--port="+port)
		if code != 0 || out != "/ready: 200 ok\n" {
			t.Fatalf("ready: %d %q", code, out)
		}
		best = min(best, took)
	}
	if best > 50*time.Millisecond {
		t.Errorf("a probe takes %v", best)
	}
	if code, _, _, _ := probe([]string{"SHELLFREE_HEALTH_PORT=" + port}, "health"); code != 0 {
		t.Errorf("port from the environment: %d", code)
	}
	cfg := filepath.Join(d, "cfg.json")
	os.WriteFile(cfg, []byte(`{"main":["/x"],"health":{"port":`+port+`}}`), 0o644)
	if code, _, _, _ := probe([]string{"SHELLFREE_INIT_CONFIG=" + cfg}); code != 0 {
		t.Errorf("port from the config: %d", code)
	}
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
	code, out, _, _ := probe(nil, "/ready", "--port", strconv.Itoa(freePort(t)))
	if code != 1 || !regexp.MustCompile(`^/ready: error not ok \(ECONNREFUSED 127\.0\.0\.1:\d+\)\n$`).MatchString(out) {
		t.Errorf("nothing listening: %d %q", code, out)
	}
	if code, _, errOut, _ := probe(nil, "--port", "x"); code != 2 || !strings.HasPrefix(errOut, "probe: --port needs an integer") {
		t.Errorf("bad args: %d %q", code, errOut)
	}
}
