package main

import (
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The configuration: the JSON form of a spec's `init:` section (/etc/shellfree/init.json),
// checked again at start-up exactly as the builder's TypeScript validator (src/init/config.ts,
// the one schema) checks it: the same fields in the same order, the same one-line messages.
// The contract fixtures in testdata/contract (written by scripts/init-contract.ts) keep the two
// in step.

const (
	defaultConfigPath     = "/etc/shellfree/init.json"
	defaultHealthPort     = 8080
	defaultGrace          = "30s"
	defaultDrain          = "0s"
	maxDurationText       = "24h"
	maxDuration           = 24 * time.Hour
	defaultCheckPeriod    = "10s"
	defaultCheckTimeout   = "3s"
	defaultCheckThreshold = 3
)

// stopSignalNames are the signals shutdown.signal may name.
var stopSignalNames = []string{"SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"}

var taskKinds = []string{"validate", "ensure-dir", "merge-pem", "run", "wait-for"}

var conditionKeys = []string{"when-exists", "when-missing", "when-file-matches"}

// Dur is a duration as written (for messages and the canonical form) and its value.
type Dur struct {
	Text string
	D    time.Duration
}

// Config is a checked configuration.
type Config struct {
	Main     []string
	MainName string // "" when not given (the file name of Main[0] is used)
	Tasks    []Task
	PIDFile  string
	Restart  *RestartConfig
	Health   *HealthConfig
	Shutdown *ShutdownConfig
	Log      *LogConfig
}

// Task is one pre-start task; Kind says which fields matter.
type Task struct {
	Kind     string
	Argv     []string // validate, run
	Path     string   // ensure-dir
	Writable bool     // ensure-dir
	Create   bool     // ensure-dir
	Cert     string   // merge-pem
	Key      string   // merge-pem
	Out      string   // merge-pem
	// WhenExists is merge-pem's `when-exists: true`: skip when its inputs are missing.
	WhenExists bool
	TCP        string // wait-for
	HTTP       string // wait-for
	Timeout    *Dur
	// conditions, on every kind
	WhenExistsPath  string
	WhenMissing     string
	WhenFileMatches *FileMatch
}

// FileMatch is `when-file-matches: {path, regex}`.
type FileMatch struct {
	Path  string
	Regex string
	re    *regexp.Regexp
}

// RestartConfig is `restart:`.
type RestartConfig struct {
	Policy      string
	MaxRestarts *int
	Backoff     *Dur
}

// Probe is what a check does: exactly one of TCP, HTTP, Exec.
type Probe struct {
	TCP  string
	HTTP string
	Exec []string
}

// ReadyCheck is the on-demand `health.ready` check.
type ReadyCheck struct {
	Probe
	Timeout *Dur
}

// HealthCheck is a periodic check, `health.checks.NAME`.
type HealthCheck struct {
	Probe
	Name      string
	Level     string // "ready" or "alive"
	Period    Dur
	Timeout   Dur
	Threshold int
}

// HealthConfig is `health:`.
type HealthConfig struct {
	Port   int
	Host   *string
	Ready  *ReadyCheck
	Checks []HealthCheck // in the document's order
}

// ShutdownConfig is `shutdown:`.
type ShutdownConfig struct {
	Grace  Dur
	Drain  Dur
	Signal string // "" when not given
}

// LogConfig is `log:`.
type LogConfig struct {
	Format string
}

// ConfigError is a configuration problem: one line, `<source>: <field>: <problem>`.
type ConfigError struct {
	Source  string
	Field   string
	Problem string
}

var newlines = lazyRegexp(`[\r\n]+`)

func (e *ConfigError) Error() string {
	s := e.Source + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return newlines().ReplaceAllString(s+e.Problem, " ")
}

// durationMs reads "500ms", "30s", "1m30s", "1.5s" as milliseconds (rounded as JavaScript's
// Math.round does); ok is false when malformed. The grammar is the TypeScript validator's
// /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/, read by hand (no regexp to compile at start-up). Not bounded.
func durationMs(s string) (float64, bool) {
	total := 0.0
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	for i < len(s) {
		start := i
		if digits() == 0 {
			return 0, false
		}
		if i < len(s) && s[i] == '.' {
			i++
			if digits() == 0 {
				return 0, false
			}
		}
		n, _ := strconv.ParseFloat(s[start:i], 64) // +Inf for absurdly long numbers, as Number() gives
		var unit float64
		switch {
		case strings.HasPrefix(s[i:], "ms"):
			unit, i = 1, i+2
		case strings.HasPrefix(s[i:], "s"):
			unit, i = 1000, i+1
		case strings.HasPrefix(s[i:], "m"):
			unit, i = 60_000, i+1
		case strings.HasPrefix(s[i:], "h"):
			unit, i = 3_600_000, i+1
		default:
			return 0, false
		}
		total += n * unit
	}
	if s == "" || math.IsInf(total, 0) || math.IsNaN(total) {
		return 0, false
	}
	return math.Floor(total + 0.5), true
}

// checker walks the JSON and panics with a *ConfigError at the first problem (as the
// TypeScript validator throws); parseConfig recovers it.
type checker struct{ source string }

func (c checker) fail(field, problem string) {
	panic(&ConfigError{c.source, field, problem})
}

func isUndefined(v any) bool { return v == undefined }

func (c checker) obj(v any, field string, allowed []string) *jsObject {
	o, ok := v.(*jsObject)
	if !ok {
		c.fail(field, "must be a mapping, got "+show(v))
	}
	for _, k := range o.keys {
		if !contains(allowed, k) {
			f := k
			if field != "" {
				f = field + "." + k
			}
			c.fail(f, "unknown key (allowed: "+strings.Join(allowed, ", ")+")")
		}
	}
	return o
}

func (c checker) str(v any, field string) string {
	s, ok := v.(string)
	if !ok || s == "" {
		c.fail(field, "must be a non-empty string, got "+show(v))
	}
	if strings.ContainsRune(s, 0) {
		c.fail(field, "must not contain NUL")
	}
	return s
}

func (c checker) absPath(v any, field string) string {
	s := c.str(v, field)
	if !strings.HasPrefix(s, "/") {
		c.fail(field, "must be an absolute path, got "+show(s))
	}
	return s
}

func (c checker) boolean(v any, field string) bool {
	b, ok := v.(bool)
	if !ok {
		c.fail(field, "must be true or false, got "+show(v))
	}
	return b
}

func (c checker) argv(v any, field string) []string {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		c.fail(field, "must be a non-empty list of strings (argv, no shell), got "+show(v))
	}
	out := make([]string, len(a))
	for i, e := range a {
		f := sprintf("%s[%d]", field, i)
		s, ok := e.(string)
		if !ok {
			c.fail(f, "must be a string, got "+show(e))
		}
		if i == 0 && s == "" {
			c.fail(f, "must name a program")
		}
		if strings.ContainsRune(s, 0) {
			c.fail(f, "must not contain NUL")
		}
		out[i] = s
	}
	return out
}

func (c checker) duration(v any, field string, positive bool) Dur {
	s, isStr := v.(string)
	ms, ok := durationMs(s)
	if !isStr || !ok {
		c.fail(field, "must be a duration like 500ms, 30s or 1m, got "+show(v))
	}
	if ms > float64(maxDuration/time.Millisecond) {
		c.fail(field, "must be at most "+maxDurationText+", got "+show(v))
	}
	if positive && ms == 0 {
		c.fail(field, "must be longer than 0, got "+show(v))
	}
	return Dur{s, time.Duration(ms) * time.Millisecond}
}

func (c checker) integer(v any, field string, min, max float64) int {
	f, ok := v.(float64)
	if !ok || math.IsInf(f, 0) || f != math.Trunc(f) || f < min || f > max {
		c.fail(field, sprintf("must be an integer from %s to %s, got %s", jsNumber(min), jsNumber(max), show(v)))
	}
	return int(f)
}

func (c checker) hostPort(v any, field string) string {
	s := c.str(v, field)
	if _, _, ok := parseHostPort(s); !ok {
		c.fail(field, `must be "host:port" with a port from 1 to 65535, got `+show(s))
	}
	return s
}

func (c checker) url(v any, field string) string {
	s := c.str(v, field)
	if len(s) >= 6 && strings.EqualFold(s[:6], "https:") {
		c.fail(field, "https is not supported (shellfree-init has no TLS client); use http:// or tcp, got "+show(s))
	}
	if _, ok := parseHTTPURL(s); !ok {
		c.fail(field, "must be an http:// URL (http://host[:port][/path]), got "+show(s))
	}
	return s
}

func (c checker) name(v any, field string, re *regexp.Regexp, what string) string {
	s := c.str(v, field)
	if !re.MatchString(s) {
		c.fail(field, "must be "+what+", got "+show(s))
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const hostRE = `(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))`

var hostPortRE = lazyRegexp(`^` + hostRE + `:([0-9]{1,5})$`)
var httpURLRE = lazyRegexp(`^http://` + hostRE + `(?::([0-9]{1,5}))?(/[!-~]*)?$`)

// parseHostPort reads "host:port" or "[v6]:port".
func parseHostPort(s string) (host string, port int, ok bool) {
	m := hostPortRE().FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	port, _ = strconv.Atoi(m[3])
	if port < 1 || port > 65535 {
		return "", 0, false
	}
	return m[1] + m[2], port, true
}

// HTTPURL is a parsed http:// URL of a check.
type HTTPURL struct {
	Host string
	Port int
	Path string // with the query
}

// Addr is host:port for net.Dial.
func (u HTTPURL) Addr() string {
	return joinHostPort(u.Host, u.Port)
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// parseHTTPURL reads "http://host[:port][/path]" (printable ASCII, no fragment).
func parseHTTPURL(s string) (HTTPURL, bool) {
	m := httpURLRE().FindStringSubmatchIndex(s)
	if m == nil {
		return HTTPURL{}, false
	}
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return s[m[2*i]:m[2*i+1]], true
	}
	v6, _ := group(1)
	name, _ := group(2)
	portText, hasPort := group(3)
	path, hasPath := group(4)
	if strings.Contains(path, "#") {
		return HTTPURL{}, false
	}
	port := 80
	if hasPort {
		port, _ = strconv.Atoi(portText)
	}
	if port < 1 || port > 65535 {
		return HTTPURL{}, false
	}
	if !hasPath {
		path = "/"
	}
	return HTTPURL{Host: v6 + name, Port: port, Path: path}, true
}

func (c checker) conditions(o *jsObject, field string, t *Task) {
	if we := o.field("when-exists"); !isUndefined(we) {
		_, isBool := we.(bool)
		_, isStr := we.(string)
		switch {
		case t.Kind == "merge-pem" && isBool:
			t.WhenExists = we.(bool)
		case t.Kind == "merge-pem" && !isStr:
			c.fail(field+".when-exists", "must be true, false or an absolute path, got "+show(we))
		default:
			t.WhenExistsPath = c.absPath(we, field+".when-exists")
		}
	}
	if wm := o.field("when-missing"); !isUndefined(wm) {
		t.WhenMissing = c.absPath(wm, field+".when-missing")
	}
	if raw := o.field("when-file-matches"); !isUndefined(raw) {
		f := field + ".when-file-matches"
		m := c.obj(raw, f, []string{"path", "regex"})
		for _, k := range []string{"path", "regex"} {
			if isUndefined(m.field(k)) {
				c.fail(f+"."+k, "is required")
			}
		}
		path := c.absPath(m.field("path"), f+".path")
		src := c.str(m.field("regex"), f+".regex")
		if problem := portableRegexProblem(src); problem != "" {
			c.fail(f+".regex", "must be a regular expression in shellfree's portable subset: "+problem+", got "+show(src))
		}
		t.WhenFileMatches = &FileMatch{Path: path, Regex: src, re: regexp.MustCompile(src)}
	}
}

func (c checker) task(raw any, field string) Task {
	o0, ok := raw.(*jsObject)
	if !ok {
		c.fail(field, "must be a mapping with one of "+strings.Join(taskKinds, ", ")+", got "+show(raw))
	}
	var kinds []string
	for _, k := range o0.keys {
		if contains(taskKinds, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		if len(kinds) == 0 {
			keys := strings.Join(o0.keys, ", ")
			if keys == "" {
				keys = "none"
			}
			c.fail(field, "needs one of "+strings.Join(taskKinds, ", ")+" (keys: "+keys+")")
		}
		c.fail(field, "has several task kinds ("+strings.Join(kinds, ", ")+"); use one per task")
	}
	kind := kinds[0]
	f := field + "." + kind
	allowed := func(extra ...string) []string {
		a := append([]string{kind}, extra...)
		a = append(a, conditionKeys...)
		return append(a, "timeout")
	}
	t := Task{Kind: kind}
	var o *jsObject
	switch kind {
	case "validate":
		o = c.obj(raw, field, allowed())
		t.Argv = c.argv(o.field("validate"), f)
	case "ensure-dir":
		o = c.obj(raw, field, allowed("writable", "create"))
		t.Path = c.absPath(o.field("ensure-dir"), f)
		t.Writable, t.Create = true, true
		if v := o.field("writable"); !isUndefined(v) {
			t.Writable = c.boolean(v, field+".writable")
		}
		if v := o.field("create"); !isUndefined(v) {
			t.Create = c.boolean(v, field+".create")
		}
	case "merge-pem":
		o = c.obj(raw, field, allowed())
		m := c.obj(o.field("merge-pem"), f, []string{"cert", "key", "out"})
		for _, k := range []string{"cert", "key", "out"} {
			if isUndefined(m.field(k)) {
				c.fail(f+"."+k, "is required")
			}
		}
		t.Cert = c.absPath(m.field("cert"), f+".cert")
		t.Key = c.absPath(m.field("key"), f+".key")
		t.Out = c.absPath(m.field("out"), f+".out")
	case "run":
		o = c.obj(raw, field, allowed())
		t.Argv = c.argv(o.field("run"), f)
	case "wait-for":
		o = c.obj(raw, field, allowed())
		w := c.obj(o.field("wait-for"), f, []string{"tcp", "http", "timeout"})
		if isUndefined(w.field("tcp")) == isUndefined(w.field("http")) {
			c.fail(f, "needs exactly one of tcp, http")
		}
		if v := w.field("tcp"); !isUndefined(v) {
			t.TCP = c.hostPort(v, f+".tcp")
		}
		if v := w.field("http"); !isUndefined(v) {
			t.HTTP = c.url(v, f+".http")
		}
		if !isUndefined(w.field("timeout")) && !isUndefined(o.field("timeout")) {
			c.fail(f+".timeout", "given twice (inside wait-for and beside it); keep one")
		}
		if v := w.field("timeout"); !isUndefined(v) {
			d := c.duration(v, f+".timeout", false)
			t.Timeout = &d
		}
	}
	c.conditions(o, field, &t)
	if v := o.field("timeout"); !isUndefined(v) {
		d := c.duration(v, field+".timeout", false)
		t.Timeout = &d
	}
	return t
}

// oneProbe requires exactly one of tcp, http, exec.
func (c checker) oneProbe(o *jsObject, field string) {
	n := 0
	for _, k := range []string{"tcp", "http", "exec"} {
		if !isUndefined(o.field(k)) {
			n++
		}
	}
	if n != 1 {
		c.fail(field, "needs exactly one of tcp, http, exec")
	}
}

func (c checker) probeBody(o *jsObject, field string) Probe {
	if v := o.field("tcp"); !isUndefined(v) {
		return Probe{TCP: c.hostPort(v, field+".tcp")}
	}
	if v := o.field("http"); !isUndefined(v) {
		return Probe{HTTP: c.url(v, field+".http")}
	}
	return Probe{Exec: c.argv(o.field("exec"), field+".exec")}
}

func (c checker) ready(raw any, field string) *ReadyCheck {
	o := c.obj(raw, field, []string{"tcp", "http", "exec", "timeout"})
	c.oneProbe(o, field)
	r := &ReadyCheck{Probe: c.probeBody(o, field)}
	if v := o.field("timeout"); !isUndefined(v) {
		d := c.duration(v, field+".timeout", false)
		r.Timeout = &d
	}
	return r
}

var checkNameRE = lazyRegexp(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)
var mainNameRE = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (c checker) check(raw any, field, name string) HealthCheck {
	o := c.obj(raw, field, []string{"level", "period", "timeout", "threshold", "tcp", "http", "exec"})
	c.oneProbe(o, field)
	hc := HealthCheck{Name: name, Level: "ready", Threshold: defaultCheckThreshold}
	if v := o.field("level"); !isUndefined(v) {
		if v != "ready" && v != "alive" {
			c.fail(field+".level", `must be "ready" or "alive", got `+show(v))
		}
		hc.Level = v.(string)
	}
	if v := o.field("period"); isUndefined(v) {
		hc.Period = c.duration(defaultCheckPeriod, field+".period", true)
	} else {
		hc.Period = c.duration(v, field+".period", true)
	}
	if v := o.field("timeout"); isUndefined(v) {
		hc.Timeout = c.duration(defaultCheckTimeout, field+".timeout", true)
		if hc.Period.D < hc.Timeout.D {
			hc.Timeout = hc.Period
		}
	} else {
		hc.Timeout = c.duration(v, field+".timeout", true)
		if hc.Timeout.D > hc.Period.D {
			c.fail(field+".timeout", "must not be longer than the period ("+hc.Period.Text+"), got "+show(v))
		}
	}
	if v := o.field("threshold"); !isUndefined(v) {
		hc.Threshold = c.integer(v, field+".threshold", 1, 1000)
	}
	hc.Probe = c.probeBody(o, field)
	return hc
}

func (c checker) checks(raw any, field string) []HealthCheck {
	o, ok := raw.(*jsObject)
	if !ok {
		c.fail(field, "must be a mapping of check names to checks, got "+show(raw))
	}
	out := []HealthCheck{}
	for _, name := range o.keys {
		if !checkNameRE().MatchString(name) {
			c.fail(field+"."+name, "a check name is 1 to 40 of a-z, 0-9 and - (not first or last)")
		}
		out = append(out, c.check(o.vals[name], field+"."+name, name))
	}
	return out
}

// parseConfig checks the JSON form of an `init:` section (as parseJSON returns it) and
// returns it normalized, or a *ConfigError.
func parseConfig(input any, source string) (cfg *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*ConfigError)
			if !ok {
				panic(r)
			}
			cfg, err = nil, ce
		}
	}()
	c := checker{source}
	o := c.obj(input, "", []string{"tasks", "main", "main-name", "pid-file", "restart", "health", "shutdown", "log"})
	if isUndefined(o.field("main")) {
		c.fail("main", "is required: the command to supervise, as a list (argv)")
	}
	cfg = &Config{Tasks: []Task{}, Main: c.argv(o.field("main"), "main")}
	if v := o.field("main-name"); !isUndefined(v) {
		cfg.MainName = c.name(v, "main-name", mainNameRE(),
			"1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
	}
	if v := o.field("tasks"); !isUndefined(v) {
		list, ok := v.([]any)
		if !ok {
			c.fail("tasks", "must be a list, got "+show(v))
		}
		for i, t := range list {
			cfg.Tasks = append(cfg.Tasks, c.task(t, sprintf("tasks[%d]", i)))
		}
	}
	if v := o.field("pid-file"); !isUndefined(v) {
		cfg.PIDFile = c.absPath(v, "pid-file")
	}
	if v := o.field("restart"); !isUndefined(v) {
		r := c.obj(v, "restart", []string{"policy", "max-restarts", "backoff"})
		p := r.field("policy")
		if p != "no" && p != "on-failure" {
			c.fail("restart.policy", `must be "no" or "on-failure", got `+show(p))
		}
		cfg.Restart = &RestartConfig{Policy: p.(string)}
		if m := r.field("max-restarts"); !isUndefined(m) {
			n := c.integer(m, "restart.max-restarts", 0, 1_000_000)
			cfg.Restart.MaxRestarts = &n
		}
		if b := r.field("backoff"); !isUndefined(b) {
			d := c.duration(b, "restart.backoff", false)
			cfg.Restart.Backoff = &d
		}
	}
	if v := o.field("health"); !isUndefined(v) {
		h := c.obj(v, "health", []string{"port", "host", "ready", "checks"})
		cfg.Health = &HealthConfig{Port: defaultHealthPort}
		if p := h.field("port"); !isUndefined(p) {
			cfg.Health.Port = c.integer(p, "health.port", 0, 65535)
		}
		if hv := h.field("host"); !isUndefined(hv) {
			host := c.str(hv, "health.host")
			cfg.Health.Host = &host
		}
		if r := h.field("ready"); !isUndefined(r) {
			cfg.Health.Ready = c.ready(r, "health.ready")
		}
		if ck := h.field("checks"); !isUndefined(ck) {
			cfg.Health.Checks = c.checks(ck, "health.checks")
		}
	}
	if v := o.field("shutdown"); !isUndefined(v) {
		s := c.obj(v, "shutdown", []string{"grace", "drain", "signal"})
		sc := &ShutdownConfig{}
		if g := s.field("grace"); isUndefined(g) {
			sc.Grace = c.duration(defaultGrace, "shutdown.grace", false)
		} else {
			sc.Grace = c.duration(g, "shutdown.grace", false)
		}
		if d := s.field("drain"); isUndefined(d) {
			sc.Drain = c.duration(defaultDrain, "shutdown.drain", false)
		} else {
			sc.Drain = c.duration(d, "shutdown.drain", false)
		}
		cfg.Shutdown = sc
		if sv := s.field("signal"); !isUndefined(sv) {
			raw := c.str(sv, "shutdown.signal")
			sig := ""
			if asciiAlnum(raw) {
				sig = strings.ToUpper(raw)
			}
			name := sig
			if !strings.HasPrefix(sig, "SIG") {
				name = "SIG" + sig
			}
			if !contains(stopSignalNames, name) {
				c.fail("shutdown.signal", "must be one of "+strings.Join(stopSignalNames, ", ")+", got "+show(sv))
			}
			sc.Signal = name
		}
	}
	if v := o.field("log"); !isUndefined(v) {
		l := c.obj(v, "log", []string{"format"})
		f := l.field("format")
		if f != "text" && f != "json" {
			c.fail("log.format", `must be "text" or "json", got `+show(f))
		}
		cfg.Log = &LogConfig{Format: f.(string)}
	}
	return cfg, nil
}

func asciiAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

var portRE = lazyRegexp(`^[0-9]{1,5}$`)

// applyEnvOverrides applies SHELLFREE_HEALTH_PORT, SHELLFREE_HEALTH_HOST, SHELLFREE_GRACE,
// SHELLFREE_DRAIN, SHELLFREE_LOG_FORMAT and SHELLFREE_RESTART (empty values are ignored).
func applyEnvOverrides(cfg *Config, getenv func(string) string) (out *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*ConfigError)
			if !ok {
				panic(r)
			}
			out, err = nil, ce
		}
	}()
	c := checker{"environment"}
	o := *cfg
	if port := getenv("SHELLFREE_HEALTH_PORT"); port != "" {
		n, _ := strconv.Atoi(port)
		if !portRE().MatchString(port) || n > 65535 {
			c.fail("SHELLFREE_HEALTH_PORT", "must be an integer from 0 to 65535, got "+show(port))
		}
		h := HealthConfig{Port: defaultHealthPort}
		if cfg.Health != nil {
			h = *cfg.Health
		}
		h.Port = n
		o.Health = &h
	}
	if host := getenv("SHELLFREE_HEALTH_HOST"); host != "" {
		h := HealthConfig{Port: defaultHealthPort}
		if o.Health != nil {
			h = *o.Health
		}
		h.Host = &host
		o.Health = &h
	}
	for _, v := range []struct{ name, key string }{{"SHELLFREE_GRACE", "grace"}, {"SHELLFREE_DRAIN", "drain"}} {
		val := getenv(v.name)
		if val == "" {
			continue
		}
		d := c.duration(val, v.name, false)
		s := ShutdownConfig{Grace: Dur{defaultGrace, 30 * time.Second}, Drain: Dur{defaultDrain, 0}}
		if o.Shutdown != nil {
			s = *o.Shutdown
		}
		if v.key == "grace" {
			s.Grace = d
		} else {
			s.Drain = d
		}
		o.Shutdown = &s
	}
	if f := getenv("SHELLFREE_LOG_FORMAT"); f != "" {
		if f != "text" && f != "json" {
			c.fail("SHELLFREE_LOG_FORMAT", `must be "text" or "json", got `+show(f))
		}
		o.Log = &LogConfig{Format: f}
	}
	if rp := getenv("SHELLFREE_RESTART"); rp != "" {
		if rp != "no" && rp != "on-failure" {
			c.fail("SHELLFREE_RESTART", `must be "no" or "on-failure", got `+show(rp))
		}
		r := RestartConfig{}
		if cfg.Restart != nil {
			r = *cfg.Restart
		}
		r.Policy = rp
		o.Restart = &r
	}
	return &o, nil
}

// Name is the main process's name in log lines.
func (c *Config) Name() string {
	if c.MainName != "" {
		return c.MainName
	}
	return filepath.Base(c.Main[0])
}

// Grace, Drain and StopSignal with their defaults.
func (c *Config) Grace() time.Duration {
	if c.Shutdown == nil {
		return 30 * time.Second
	}
	return c.Shutdown.Grace.D
}

// Drain is how long readiness is 503 before the stop signal.
func (c *Config) Drain() time.Duration {
	if c.Shutdown == nil {
		return 0
	}
	return c.Shutdown.Drain.D
}

// HealthPort and HealthHost with their defaults.
func (c *Config) HealthPort() int {
	if c.Health == nil {
		return defaultHealthPort
	}
	return c.Health.Port
}

// HealthHost is where the health server listens (default all IPv4 addresses).
func (c *Config) HealthHost() string {
	if c.Health == nil || c.Health.Host == nil {
		return "0.0.0.0"
	}
	return *c.Health.Host
}
