package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The contract with the TypeScript schema: every fixture written by scripts/init-contract.ts
// from src/init/config.ts must get the same verdict here: valid with the same canonical
// init.json, or invalid naming the same field with the same message.

type contractCase struct {
	Name      string
	Document  string
	Env       map[string]string
	Valid     bool
	Canonical string
	Field     string
	Message   string
}

func loadContract(t *testing.T) []contractCase {
	t.Helper()
	files, err := filepath.Glob("testdata/contract/*.json")
	if err != nil || len(files) < 100 {
		t.Fatalf("contract fixtures missing (%d found, %v): run node scripts/init-contract.ts", len(files), err)
	}
	var out []contractCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := parseJSON(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		o := v.(*jsObject)
		c := contractCase{Name: o.field("name").(string), Document: o.field("document").(string), Valid: o.field("valid").(bool), Env: map[string]string{}}
		env := o.field("env").(*jsObject)
		for _, k := range env.keys {
			c.Env[k] = env.vals[k].(string)
		}
		if c.Valid {
			c.Canonical = o.field("canonical").(string)
		} else {
			c.Field = o.field("field").(string)
			c.Message = o.field("message").(string)
		}
		out = append(out, c)
	}
	return out
}

// check runs the init's own validation the way loadConfig does.
func checkDocument(doc string, env map[string]string) (*Config, error) {
	raw, err := parseJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(raw, "/etc/shellfree/init.json")
	if err != nil {
		return nil, err
	}
	return applyEnvOverrides(cfg, func(k string) string { return env[k] })
}

func TestContractWithTypeScriptSchema(t *testing.T) {
	cases := loadContract(t)
	valid := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg, err := checkDocument(c.Document, c.Env)
			if c.Valid {
				valid++
				if err != nil {
					t.Fatalf("TypeScript accepts it, Go says: %v", err)
				}
				if got := canonicalJSON(cfg); got != c.Canonical {
					t.Fatalf("canonical form differs:\nGo:\n%s\nTypeScript:\n%s", got, c.Canonical)
				}
				// the canonical form reads back the same
				again, err := checkDocument(c.Canonical, nil)
				if err != nil || canonicalJSON(again) != c.Canonical {
					t.Fatalf("canonical form does not round-trip: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("TypeScript refuses it (%s), Go accepts it", c.Message)
			}
			ce, ok := err.(*ConfigError)
			if !ok {
				t.Fatalf("not a ConfigError: %v", err)
			}
			if ce.Field != c.Field {
				t.Fatalf("field %q, TypeScript names %q (%s)", ce.Field, c.Field, c.Message)
			}
			if ce.Error() != c.Message {
				t.Fatalf("message differs:\nGo: %s\nTS: %s", ce.Error(), c.Message)
			}
			if strings.ContainsAny(ce.Error(), "\r\n") {
				t.Fatalf("message is not one line: %q", ce.Error())
			}
		})
	}
	if valid < 20 || len(cases)-valid < 100 {
		t.Fatalf("too few cases: %d valid, %d invalid", valid, len(cases)-valid)
	}
}

func TestParsedValues(t *testing.T) {
	cfg, err := checkDocument(`{"main":["/usr/sbin/squid","-N"],"health":{"checks":{"b":{"tcp":"a:1","period":"500ms"},"a":{"level":"alive","exec":["/x"]}}},
		"shutdown":{"grace":"1m30s","drain":"1.5s","signal":"quit"},"restart":{"policy":"on-failure","backoff":"250ms"},
		"tasks":[{"run":["/x"],"when-file-matches":{"path":"/etc/a","regex":"^a+$"},"timeout":"2m"}]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name() != "squid" {
		t.Errorf("default name %q", cfg.Name())
	}
	if cfg.Grace() != 90*time.Second || cfg.Drain() != 1500*time.Millisecond || cfg.Shutdown.Signal != "SIGQUIT" {
		t.Errorf("shutdown %+v", cfg.Shutdown)
	}
	if cfg.Restart.Backoff.D != 250*time.Millisecond {
		t.Errorf("backoff %v", cfg.Restart.Backoff)
	}
	c := cfg.Health.Checks
	if len(c) != 2 || c[0].Name != "b" || c[0].Period.D != 500*time.Millisecond || c[0].Timeout.D != 500*time.Millisecond || c[0].Threshold != 3 || c[0].Level != "ready" {
		t.Errorf("check b %+v", c[0])
	}
	if c[1].Name != "a" || c[1].Level != "alive" || c[1].Period.D != 10*time.Second || c[1].Timeout.D != 3*time.Second {
		t.Errorf("check a %+v", c[1])
	}
	if cfg.Tasks[0].timeout() != 2*time.Minute || cfg.Tasks[0].WhenFileMatches.re == nil {
		t.Errorf("task %+v", cfg.Tasks[0])
	}
	if cfg.HealthHost() != "0.0.0.0" || cfg.HealthPort() != 8080 {
		t.Errorf("health defaults %s:%d", cfg.HealthHost(), cfg.HealthPort())
	}
	named, _ := checkDocument(`{"main":["/a"],"main-name":"web"}`, nil)
	if named.Name() != "web" {
		t.Errorf("main-name %q", named.Name())
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]float64{"500ms": 500, "30s": 30000, "1m": 60000, "1m30s": 90000, "1.5s": 1500, "2h": 7200000, "0.0004s": 0, "0.0005s": 1} {
		if got, ok := durationMs(in); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"30", "s", "30 s", "-1s", "1d", "", "1m 30s", "0x10s", "1e3s"} {
		if _, ok := durationMs(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// canonicalJSON is toInitJson of src/init/config.ts, in Go: the contract compares the two.
func canonicalJSON(c *Config) string {
	tasks := []any{}
	for _, t := range c.Tasks {
		o := obj{}
		switch t.Kind {
		case "validate":
			o = append(o, F("validate", t.Argv))
		case "ensure-dir":
			o = append(o, F("ensure-dir", t.Path), F("writable", t.Writable), F("create", t.Create))
		case "merge-pem":
			o = append(o, F("merge-pem", obj{{"cert", t.Cert}, {"key", t.Key}, {"out", t.Out}}))
			if t.WhenExistsPath != "" {
				o = append(o, F("when-exists", t.WhenExistsPath))
			} else {
				o = append(o, F("when-exists", t.WhenExists))
			}
		case "run":
			o = append(o, F("run", t.Argv))
		case "wait-for":
			if t.TCP != "" {
				o = append(o, F("wait-for", obj{{"tcp", t.TCP}}))
			} else {
				o = append(o, F("wait-for", obj{{"http", t.HTTP}}))
			}
		}
		if t.WhenExistsPath != "" {
			o = o.with("when-exists", t.WhenExistsPath)
		}
		if t.WhenMissing != "" {
			o = append(o, F("when-missing", t.WhenMissing))
		}
		if m := t.WhenFileMatches; m != nil {
			o = append(o, F("when-file-matches", obj{{"path", m.Path}, {"regex", m.Regex}}))
		}
		if t.Timeout != nil {
			o = append(o, F("timeout", t.Timeout.Text))
		}
		tasks = append(tasks, o)
	}
	out := obj{{"main", c.Main}}
	if c.MainName != "" {
		out = append(out, F("main-name", c.MainName))
	}
	out = append(out, F("tasks", tasks))
	if c.PIDFile != "" {
		out = append(out, F("pid-file", c.PIDFile))
	}
	if r := c.Restart; r != nil {
		o := obj{{"policy", r.Policy}}
		if r.MaxRestarts != nil {
			o = append(o, F("max-restarts", *r.MaxRestarts))
		}
		if r.Backoff != nil {
			o = append(o, F("backoff", r.Backoff.Text))
		}
		out = append(out, F("restart", o))
	}
	probe := func(p Probe) Field {
		switch {
		case p.TCP != "":
			return F("tcp", p.TCP)
		case p.HTTP != "":
			return F("http", p.HTTP)
		}
		return F("exec", p.Exec)
	}
	if h := c.Health; h != nil {
		o := obj{{"port", h.Port}}
		if h.Host != nil {
			o = append(o, F("host", *h.Host))
		}
		if r := h.Ready; r != nil {
			ro := obj{probe(r.Probe)}
			if r.Timeout != nil {
				ro = append(ro, F("timeout", r.Timeout.Text))
			}
			o = append(o, F("ready", ro))
		}
		if h.Checks != nil {
			checks := obj{}
			for _, k := range h.Checks {
				checks = append(checks, F(k.Name, obj{{"level", k.Level}, {"period", k.Period.Text}, {"timeout", k.Timeout.Text}, {"threshold", k.Threshold}, probe(k.Probe)}))
			}
			o = append(o, F("checks", checks))
		}
		out = append(out, F("health", o))
	}
	if s := c.Shutdown; s != nil {
		o := obj{{"grace", s.Grace.Text}, {"drain", s.Drain.Text}}
		if s.Signal != "" {
			o = append(o, F("signal", s.Signal))
		}
		out = append(out, F("shutdown", o))
	}
	if c.Log != nil {
		out = append(out, F("log", obj{{"format", c.Log.Format}}))
	}
	var b strings.Builder
	pretty(&b, out, "")
	b.WriteString("\n")
	return b.String()
}

// pretty writes v as JSON.stringify(v, null, 2) does.
func pretty(b *strings.Builder, v any, indent string) {
	in := indent + "  "
	switch x := v.(type) {
	case obj:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, f := range x {
			b.WriteString(in)
			jsQuote(b, f.Key)
			b.WriteString(": ")
			pretty(b, f.Value, in)
			if i < len(x)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		pretty(b, a, indent)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range x {
			b.WriteString(in)
			pretty(b, e, in)
			if i < len(x)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	default:
		writeJSONValue(b, x)
	}
}
