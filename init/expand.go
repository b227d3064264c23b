package main

import "strings"

// Environment expansion in init.json strings, as src/init/expand.ts defines it (the contract
// fixtures hold both to the same results and messages): `${NAME}`, `${NAME:-default}` and `$$`
// (a literal `$`), nothing else. Every `$` must start one of those forms.
//
//	${NAME}           the variable's value; refused at start when it is not set (empty is fine)
//	${NAME:-default}  the value, or the default when the variable is unset or empty; the
//	                  default is literal text up to the first `}` ($$ in it is a `$`)
//	NAME              letters, digits and `_`, not starting with a digit
//
// What is expanded (expandConfig): main (unless it came from the command line), the argv of
// validate, run and exec checks, task paths, pid-file, and the targets of wait-for and checks.
// The init expands once, at start, from its own environment (after the SHELLFREE_* overrides).

// piece is literal text (isVar false) or a variable with an optional default.
type piece struct {
	text       string // the literal text, or the default
	name       string
	isVar      bool
	hasDefault bool
}

const (
	bareDollar   = `a "$" must start ${NAME}, ${NAME:-default} or $$ (a literal "$")`
	unterminated = `"${" has no closing "}"`
	unsupported  = "only ${NAME} and ${NAME:-default} are supported"
	nested       = `a default cannot contain "${"`
)

// templateProblem is a malformed string: the part of the message before ", got ...".
type templateProblem struct{ msg string }

func (e *templateProblem) Error() string { return e.msg }

func isNameChar(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func badVariableName(name string) string {
	var b strings.Builder
	jsQuote(&b, name)
	return "bad variable name " + b.String() + ` (letters, digits and "_", not starting with a digit)`
}

// defaultText reads a default: $$ is a `$`, any other `$` a problem.
func defaultText(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			return "", &templateProblem{nested}
		}
		return "", &templateProblem{bareDollar}
	}
	return b.String(), nil
}

// parseTemplate splits s into pieces, or says what is malformed.
func parseTemplate(s string) ([]piece, error) {
	var pieces []piece
	var lit strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			lit.WriteByte('$')
			i += 2
			continue
		}
		if i+1 >= len(s) || s[i+1] != '{' {
			return nil, &templateProblem{bareDollar}
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return nil, &templateProblem{unterminated}
		}
		closing := i + 2 + end
		j := i + 2
		for j < closing && isNameChar(s[j]) {
			j++
		}
		name, rest := s[i+2:j], s[j:closing]
		if rest != "" && !strings.HasPrefix(rest, ":-") {
			return nil, &templateProblem{unsupported}
		}
		if name == "" || name[0] >= '0' && name[0] <= '9' {
			return nil, &templateProblem{badVariableName(name)}
		}
		if lit.Len() > 0 {
			pieces = append(pieces, piece{text: lit.String()})
			lit.Reset()
		}
		p := piece{name: name, isVar: true}
		if rest != "" {
			d, err := defaultText(rest[2:])
			if err != nil {
				return nil, err
			}
			p.text, p.hasDefault = d, true
		}
		pieces = append(pieces, p)
		i = closing + 1
	}
	if lit.Len() > 0 {
		pieces = append(pieces, piece{text: lit.String()})
	}
	return pieces, nil
}

// templateNames lists the variables of a template once each, in order of appearance.
func templateNames(pieces []piece) []string {
	var names []string
	for _, p := range pieces {
		if p.isVar && !contains(names, p.name) {
			names = append(names, p.name)
		}
	}
	return names
}

// lookupFunc finds a variable of the init's environment (ok false: not set).
type lookupFunc func(name string) (string, bool)

func unsetLookup(string) (string, bool) { return "", false }

// unsetVariable is a `${NAME}` without a default whose NAME is not set.
type unsetVariable struct{ name string }

func (e *unsetVariable) Error() string {
	return "environment variable " + e.name + " is not set and ${" + e.name + "} has no default (write ${" + e.name + ":-default})"
}

// expandPieces gives a template's value: a default applies when its variable is unset or empty.
func expandPieces(pieces []piece, lookup lookupFunc) (string, error) {
	var b strings.Builder
	for _, p := range pieces {
		if !p.isVar {
			b.WriteString(p.text)
			continue
		}
		v, ok := lookup(p.name)
		switch {
		case p.hasDefault && v == "":
			b.WriteString(p.text)
		case !p.hasDefault && !ok:
			return "", &unsetVariable{p.name}
		default:
			b.WriteString(v)
		}
	}
	return b.String(), nil
}

// withDefaults is what is known of a template before run time (every variable unset): known is
// the text up to the first ${NAME} without a default (complete when there is none); shown keeps
// such variables as written, for messages.
func withDefaults(pieces []piece) (known string, complete bool, shown string) {
	var k, sh strings.Builder
	complete = true
	for _, p := range pieces {
		if p.isVar && !p.hasDefault {
			complete = false
			sh.WriteString("${" + p.name + "}")
			continue
		}
		if complete {
			k.WriteString(p.text)
		}
		sh.WriteString(p.text)
	}
	return k.String(), complete, sh.String()
}

// fromTemplate is ` (from RAW with A unset, B="x")`: where a checked value came from.
func fromTemplate(raw string, pieces []piece, lookup lookupFunc) string {
	var vars []string
	for _, n := range templateNames(pieces) {
		if v, ok := lookup(n); ok {
			vars = append(vars, n+"="+show(v))
		} else {
			vars = append(vars, n+" unset")
		}
	}
	s := " (from " + show(raw)
	if len(vars) > 0 {
		s += " with " + strings.Join(vars, ", ")
	}
	return s + ")"
}

// valueCheck checks a string value, failing (c.fail) naming the field.
type valueCheck func(c checker, s, field string)

func (c checker) template(s, field string) []piece {
	pieces, err := parseTemplate(s)
	if err != nil {
		c.fail(field, err.Error()+", got "+show(s))
	}
	return pieces
}

// derived runs check on a value made from the template raw; a failure says where it came from.
func (c checker) derived(raw string, pieces []piece, lookup lookupFunc, check func()) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*ConfigError)
			if !ok {
				panic(r)
			}
			panic(&ConfigError{c.source, ce.Field, ce.Problem + fromTemplate(raw, pieces, lookup)})
		}
	}()
	check()
}

// expandable checks a string the init expands, at build time (and again when the init reads
// its config): the syntax, then check on what is known before run time — all of it when every
// variable has a default; otherwise, for a path, that the text before the first ${NAME}
// without a default is empty or starts with "/".
func (c checker) expandable(raw, field string, check valueCheck, isPath bool) string {
	if !strings.Contains(raw, "$") {
		check(c, raw, field)
		return raw
	}
	pieces := c.template(raw, field)
	known, complete, shown := withDefaults(pieces)
	switch {
	case complete:
		c.derived(raw, pieces, unsetLookup, func() { check(c, known, field) })
	case isPath && known != "" && !strings.HasPrefix(known, "/"):
		c.derived(raw, pieces, unsetLookup, func() { c.fail(field, "must be an absolute path, got "+show(shown)) })
	}
	return raw
}

// expand gives a string's value from the environment, checked again (check may be nil).
func (c checker) expand(raw, field string, lookup lookupFunc, check valueCheck) string {
	if !strings.Contains(raw, "$") {
		return raw
	}
	pieces := c.template(raw, field)
	value, err := expandPieces(pieces, lookup)
	if err != nil {
		c.fail(field, err.Error())
	}
	if check != nil {
		c.derived(raw, pieces, lookup, func() { check(c, value, field) })
	}
	return value
}

// expandConfig expands every string the init expands, in the order parseConfig reads them, and
// checks each value again; literalMain: main came from the command line and stays as it is.
func expandConfig(cfg *Config, lookup lookupFunc, source string, literalMain bool) (out *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*ConfigError)
			if !ok {
				panic(r)
			}
			out, err = nil, ce
		}
	}()
	c := checker{source: source}
	x := func(raw, field string, check valueCheck) string { return c.expand(raw, field, lookup, check) }
	argv := func(a []string, field string) []string {
		o := make([]string, len(a))
		for i, s := range a {
			var check valueCheck
			if i == 0 {
				check = programValue
			}
			o[i] = x(s, sprintf("%s[%d]", field, i), check)
		}
		return o
	}
	probe := func(p Probe, field string) Probe {
		switch {
		case p.TCP != "":
			p.TCP = x(p.TCP, field+".tcp", hostPortValue)
		case p.HTTP != "":
			p.HTTP = x(p.HTTP, field+".http", urlValue)
		case p.Listening != "":
			p.Listening = x(p.Listening, field+".listening", listenValue)
		default:
			p.Exec = argv(p.Exec, field+".exec")
		}
		return p
	}
	o := *cfg
	if !literalMain {
		o.Main = argv(cfg.Main, "main")
	}
	o.Tasks = make([]Task, len(cfg.Tasks))
	for i, t := range cfg.Tasks {
		f := sprintf("tasks[%d]", i)
		switch t.Kind {
		case "validate", "run":
			t.Argv = argv(t.Argv, f+"."+t.Kind)
		case "ensure-dir":
			t.Path = x(t.Path, f+".ensure-dir", pathValue)
		case "merge-pem":
			t.Cert = x(t.Cert, f+".merge-pem.cert", pathValue)
			t.Key = x(t.Key, f+".merge-pem.key", pathValue)
			t.Out = x(t.Out, f+".merge-pem.out", pathValue)
		case "wait-for":
			if t.TCP != "" {
				t.TCP = x(t.TCP, f+".wait-for.tcp", hostPortValue)
			} else {
				t.HTTP = x(t.HTTP, f+".wait-for.http", urlValue)
			}
		}
		if t.WhenExistsPath != "" {
			t.WhenExistsPath = x(t.WhenExistsPath, f+".when-exists", pathValue)
		}
		if t.WhenMissing != "" {
			t.WhenMissing = x(t.WhenMissing, f+".when-missing", pathValue)
		}
		if m := t.WhenFileMatches; m != nil {
			fm := *m
			fm.Path = x(m.Path, f+".when-file-matches.path", pathValue)
			t.WhenFileMatches = &fm
		}
		o.Tasks[i] = t
	}
	if cfg.PIDFile != "" {
		o.PIDFile = x(cfg.PIDFile, "pid-file", pathValue)
	}
	if cfg.Health != nil {
		h := *cfg.Health
		if r := h.Ready; r != nil {
			rc := *r
			rc.Probe = probe(r.Probe, "health.ready")
			h.Ready = &rc
		}
		if h.Checks != nil {
			checks := make([]HealthCheck, len(h.Checks))
			for i, hc := range h.Checks {
				hc.Probe = probe(hc.Probe, "health.checks."+hc.Name)
				checks[i] = hc
			}
			h.Checks = checks
		}
		o.Health = &h
	}
	return &o, nil
}
