package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Expansion: the grammar (the contract fixtures hold the messages to the TypeScript ones), and
// how loadConfig applies it — after the SHELLFREE_* overrides, never to a command line.

func TestParseTemplate(t *testing.T) {
	env := map[string]string{"A": "a", "E": "", "U": "ü"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"plain": "plain", "$$": "$", "a$$b": "a$b", "${A}": "a", "x${A}y${A}": "xaya", "${E}": "", "${E:-d}": "d",
		"${N:-d}": "d", "${A:-d}": "a", "${N:-}": "", "${N:-$$}": "$", "${N:-a:-b}": "a:-b", "${N:-{}": "{", "${A}}": "a}",
		"é${U}": "éü", "$${A}": "${A}",
	} {
		p, err := parseTemplate(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got, err := expandPieces(p, lookup); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"$": bareDollar, "a$": bareDollar, "$A": bareDollar, "$(x)": bareDollar, "${": unterminated, "${A": unterminated,
		"${A:-x": unterminated, "${}": `bad variable name ""`, "${1A}": `bad variable name "1A"`, "${A:=x}": unsupported,
		"${A-x}": unsupported, "${#A}": unsupported, "${A B}": unsupported, "${A:-${B}}": nested, "${A:-a$b}": bareDollar,
		"${A:-$}": bareDollar, "${Ä}": unsupported,
	} {
		_, err := parseTemplate(in)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
	p, _ := parseTemplate("${NOPE}")
	if _, err := expandPieces(p, lookup); err == nil || !strings.Contains(err.Error(), "NOPE is not set") {
		t.Errorf("unset: %v", err)
	}
}

func TestLoadConfigExpands(t *testing.T) {
	d := t.TempDir()
	f := filepath.Join(d, "init.json")
	os.WriteFile(f, []byte(`{"main":["/usr/sbin/squid","-N","-f","${SQUID_CONFIG:-/etc/squid/squid.conf}"],
		"tasks":[{"run":["/x"],"when-file-matches":{"path":"${SQUID_CONFIG:-/etc/squid/squid.conf}","regex":"ssl-bump"}}],
		"pid-file":"${RUN:-/run}/squid.pid","health":{"ready":{"listening":"${PORT:-3128}"}}}`), 0o644)
	env := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, _, err := loadConfig(Args{ConfigPath: f}, lookup, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Main, " ") != "/usr/sbin/squid -N -f /etc/squid/squid.conf" || cfg.Tasks[0].WhenFileMatches.Path != "/etc/squid/squid.conf" ||
		cfg.PIDFile != "/run/squid.pid" || cfg.Health.Ready.Listening != "3128" {
		t.Errorf("defaults: %+v %+v", cfg, cfg.Tasks[0].WhenFileMatches)
	}
	if cfg.Tasks[0].WhenFileMatches.re == nil {
		t.Error("the compiled regex is lost")
	}
	env["SQUID_CONFIG"], env["PORT"] = "/etc/squid/bump.conf", "3129"
	cfg, _, _ = loadConfig(Args{ConfigPath: f}, lookup, "")
	if cfg.Main[3] != "/etc/squid/bump.conf" || cfg.Tasks[0].WhenFileMatches.Path != "/etc/squid/bump.conf" || cfg.Health.Ready.Listening != "3129" {
		t.Errorf("from the environment: %v %v", cfg.Main, cfg.Health.Ready)
	}
	// a value that makes a path relative: one line naming the field and the variable
	env["SQUID_CONFIG"] = "squid.conf"
	_, _, err = loadConfig(Args{ConfigPath: f}, lookup, "")
	if err == nil || err.Error() != f+`: tasks[0].when-file-matches.path: must be an absolute path, got "squid.conf" (from "${SQUID_CONFIG:-/etc/squid/squid.conf}" with SQUID_CONFIG="squid.conf")` {
		t.Errorf("relative: %v", err)
	}
	delete(env, "SQUID_CONFIG")
	// a command line is taken as it is: not expanded, and a "$" in it is no error
	cfg, _, err = loadConfig(Args{ConfigPath: f, Command: []string{"/bin/echo", "${SQUID_CONFIG}", "a$b", "$"}}, lookup, "")
	if err != nil || strings.Join(cfg.Main, " ") != "/bin/echo ${SQUID_CONFIG} a$b $" || cfg.PIDFile != "/run/squid.pid" {
		t.Errorf("command line: %v %v", cfg, err)
	}
	// the SHELLFREE_* overrides apply first, and are variables like any other
	env["SHELLFREE_HEALTH_PORT"] = "9100"
	os.WriteFile(f, []byte(`{"main":["/a","--health=${SHELLFREE_HEALTH_PORT}"]}`), 0o644)
	if cfg, _, err = loadConfig(Args{ConfigPath: f}, lookup, ""); err != nil || cfg.Main[1] != "--health=9100" || cfg.HealthPort() != 9100 {
		t.Errorf("overrides: %v %v", cfg, err)
	}
	delete(env, "SQUID_CONFIG")
	os.WriteFile(f, []byte(`{"main":["/a","${MISSING}"]}`), 0o644)
	if _, _, err := loadConfig(Args{ConfigPath: f}, lookup, ""); err == nil || err.Error() != f+": main[1]: environment variable MISSING is not set and ${MISSING} has no default (write ${MISSING:-default})" {
		t.Errorf("unset: %v", err)
	}
}
