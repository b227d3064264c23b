package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want Args
	}{
		{nil, Args{}},
		{[]string{"--config", "/c.json", "--log-format=json"}, Args{ConfigPath: "/c.json", LogFormat: "json"}},
		{[]string{"-c", "/c.json", "--", "/app", "--port", "1"}, Args{ConfigPath: "/c.json", Command: []string{"/app", "--port", "1"}}},
		{[]string{"/app", "-x"}, Args{Command: []string{"/app", "-x"}}},
		{[]string{"--check-config", "--version"}, Args{CheckConfig: true, Version: true}},
		{[]string{"-V", "-h"}, Args{Version: true, Help: true}},
	} {
		got, err := parseArgs(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: %+v %v", c.in, got, err)
		}
	}
	for in, want := range map[string]string{
		"--config":         "--config needs a value",
		"--log-format xml": `--log-format must be text or json, got "xml"`,
		"--nope":           "unknown option --nope",
		"--":               "-- must be followed by a command",
	} {
		if _, err := parseArgs(strings.Fields(in)); err == nil || err.Error() != want {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	d := t.TempDir()
	f := filepath.Join(d, "init.json")
	os.WriteFile(f, []byte(`{"main":["/a"],"health":{"port":9000}}`), 0o644)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, src, err := loadConfig(Args{ConfigPath: f}, env(nil), "/nonexistent/init.json")
	if err != nil || src != f || cfg.HealthPort() != 9000 {
		t.Fatalf("%v %s %v", cfg, src, err)
	}
	cfg, src, _ = loadConfig(Args{}, env(map[string]string{"SHELLFREE_INIT_CONFIG": f, "SHELLFREE_HEALTH_PORT": "9100"}), "/nonexistent/init.json")
	if src != f || cfg.HealthPort() != 9100 {
		t.Errorf("env: %s %d", src, cfg.HealthPort())
	}
	cfg, src, _ = loadConfig(Args{ConfigPath: f, Command: []string{"/b", "x"}}, env(nil), "/nonexistent/init.json")
	if strings.Join(cfg.Main, " ") != "/b x" || src != f+" + command line" || cfg.Name() != "b" {
		t.Errorf("command: %v %s", cfg.Main, src)
	}
	if _, _, err := loadConfig(Args{ConfigPath: filepath.Join(d, "x.json")}, env(nil), "/nonexistent/init.json"); err == nil || !strings.HasSuffix(err.Error(), "x.json: config file does not exist") {
		t.Errorf("missing explicit: %v", err)
	}
	cfg, src, err = loadConfig(Args{Command: []string{"/bin/true"}}, env(nil), "/nonexistent/init.json")
	if err != nil || src != "command line" || cfg.Main[0] != "/bin/true" {
		t.Errorf("no file + command: %v %s %v", cfg, src, err)
	}
	if _, _, err := loadConfig(Args{}, env(nil), "/nonexistent/init.json"); err == nil || !strings.HasSuffix(err.Error(), "init.json: config file does not exist (give --config PATH, $SHELLFREE_INIT_CONFIG or a command after --)") {
		t.Errorf("nothing: %v", err)
	}
	os.WriteFile(f, []byte(`{ main: [`), 0o644)
	if _, _, err := loadConfig(Args{ConfigPath: f}, env(nil), ""); err == nil || !strings.Contains(err.Error(), "init.json: not valid JSON: ") {
		t.Errorf("bad JSON: %v", err)
	}
}

// Bad configuration: one clear line, exit 1, before anything starts.
func TestBadConfigOneLine(t *testing.T) {
	for name, c := range map[string]struct {
		config any
		env    map[string]string
		re     string
	}{
		"unknown key":   {`{"main":["/x"],"helth":{"port":8080}}`, nil, `init\.json: helth: unknown key \(allowed: `},
		"missing main":  {`{"tasks":[]}`, nil, `init\.json: main: is required`},
		"port":          {`{"main":["/x"],"health":{"port":"eighty"}}`, nil, `init\.json: health\.port: must be an integer from 0 to 65535, got "eighty"`},
		"duration":      {`{"main":["/x"],"shutdown":{"grace":"30"}}`, nil, `init\.json: shutdown\.grace: must be a duration like 500ms, 30s or 1m, got "30"`},
		"duration 600h": {`{"main":["/x"],"shutdown":{"grace":"600h"}}`, nil, `init\.json: shutdown\.grace: must be at most 24h, got "600h"`},
		"not JSON":      {`{ main: [`, nil, `init\.json: not valid JSON: `},
		"unknown task":  {`{"main":["/x"],"tasks":[{"wait-forever":{}}]}`, nil, `init\.json: tasks\[0\]: needs one of validate, ensure-dir`},
		"env":           {`{"main":["/x"]}`, map[string]string{"SHELLFREE_HEALTH_PORT": "80x"}, `\[ERROR\] environment: SHELLFREE_HEALTH_PORT: must be an integer from 0 to 65535, got "80x"$`},
	} {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			p := startInit(t, initOpts{dir: d, config: c.config, env: c.env})
			if code, _ := p.exit(10 * time.Second); code != 1 {
				t.Fatalf("exit %d", code)
			}
			l := p.Lines()
			if len(l) != 1 || !regexpMatch(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[ERROR\] `, l[0]) || !regexpMatch(c.re, l[0]) || p.Stdout() != "" {
				t.Fatalf("lines %q", l)
			}
		})
	}
	p := startInit(t, initOpts{args: []string{"--config", "/nonexistent/nope.json"}})
	if code, _ := p.exit(10 * time.Second); code != 1 || len(p.Lines()) != 1 || !strings.HasSuffix(p.Lines()[0], "nope.json: config file does not exist") {
		t.Fatalf("missing file: %d %q", code, p.Lines())
	}
	p = startInit(t, initOpts{args: []string{"--frobnicate"}})
	if code, _ := p.exit(10 * time.Second); code != 2 || len(p.Lines()) != 1 || !regexpMatch(`\[ERROR\] unknown option --frobnicate \(usage: `, p.Lines()[0]) {
		t.Fatalf("unknown option: %d %q", code, p.Lines())
	}
}

func TestVersionHelpCheckConfig(t *testing.T) {
	d := t.TempDir()
	cmd := func(args ...string) (string, string, int) {
		c := exec.Command(testExe, args...)
		c.Env = []string{"SFI_ROLE=init", "PATH=" + os.Getenv("PATH")}
		var out, errb strings.Builder
		c.Stdout, c.Stderr = &out, &errb
		c.Run()
		return out.String(), errb.String(), c.ProcessState.ExitCode()
	}
	if out, _, code := cmd("--version"); code != 0 || out != "shellfree-init "+version+"\n" {
		t.Errorf("--version %d %q", code, out)
	}
	if out, _, code := cmd("--help"); code != 0 || !strings.HasPrefix(out, "usage: shellfree-init ") {
		t.Errorf("--help %d %q", code, out)
	}
	f := filepath.Join(d, "init.json")
	os.WriteFile(f, []byte(`{"main":["/x"],"health":{"port":9000}}`), 0o644)
	if out, _, code := cmd("--config", f, "--check-config"); code != 0 || out != f+": ok\n" {
		t.Errorf("check-config %d %q", code, out)
	}
	os.WriteFile(f, []byte(`{"main":["/x"],"health":{"port":-1}}`), 0o644)
	if _, errOut, code := cmd("--config", f, "--check-config"); code != 1 || !strings.Contains(errOut, "health.port: must be an integer") {
		t.Errorf("check-config bad %d %q", code, errOut)
	}
}

func TestCommandLineMainAndConfigFromEnv(t *testing.T) {
	d := t.TempDir()
	cfg := filepath.Join(d, "other.json")
	os.WriteFile(cfg, []byte(`{"main":["/not/used"],"main-name":"cli","health":{"port":0,"host":"127.0.0.1"}}`), 0o644)
	p := startInit(t, initOpts{dir: d, env: map[string]string{"SHELLFREE_INIT_CONFIG": cfg}, args: append([]string{"--"}, appArgv("exit", "0")...)})
	if code, _ := p.exit(10 * time.Second); code != 0 {
		t.Fatal(p.log())
	}
	if !p.hasMessage(`config `+regexpQuote(cfg)+` \+ command line\)$`) || !p.hasMessage(`^Main process cli started \(PID \d+\): \S+sfi-app exit 0$`) {
		t.Fatal(p.log())
	}
}
