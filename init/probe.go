package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// `shellfree-init probe [/ready] [--port N] [--host H] [--timeout MS]`: a HEALTHCHECK in exec
// form (no shell, no curl). One HEAD request to the local health server; exit 0 on a 2xx
// answer, 1 otherwise, 2 on bad arguments. The port and host come from the flags, else
// $SHELLFREE_HEALTH_PORT / $SHELLFREE_HEALTH_HOST, else the config file, else 8080 on 127.0.0.1.

// ProbeOptions is what to ask.
type ProbeOptions struct {
	Path      string
	Host      string
	Port      int
	TimeoutMs int
}

var digitsRE = lazyRegexp(`^[0-9]+$`)

// configHealth reads health.port and health.host from the config file, ignoring every problem.
func configHealth(getenv func(string) string) (port *int, host string) {
	path := getenv("SHELLFREE_INIT_CONFIG")
	if path == "" {
		path = defaultConfigPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ""
	}
	v, err := parseJSON(data)
	if err != nil {
		return nil, ""
	}
	o, ok := v.(*jsObject)
	if !ok {
		return nil, ""
	}
	h, ok := o.field("health").(*jsObject)
	if !ok {
		return nil, ""
	}
	if p, ok := h.field("port").(float64); ok {
		n := int(p)
		port = &n
	}
	host, _ = h.field("host").(string)
	return port, host
}

func parseProbeArgs(argv []string, getenv func(string) string) (ProbeOptions, error) {
	o := ProbeOptions{Path: "/ready", TimeoutMs: 2000}
	var port *int
	host := ""
	hostGiven := false
	num := func(name string, v *string, max int) (int, error) {
		if v == nil || !digitsRE().MatchString(*v) || len(*v) > 9 {
			got := "nothing"
			if v != nil {
				got = strconv.Quote(*v)
			}
			return 0, usageError{sprintf("%s needs an integer up to %d, got %s", name, max, got)}
		}
		n, _ := strconv.Atoi(*v)
		if n > max {
			return 0, usageError{sprintf("%s needs an integer up to %d, got %q", name, max, *v)}
		}
		return n, nil
	}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		var inline *string
		if strings.HasPrefix(a, "--") && strings.Contains(a, "=") {
			name, val, _ := strings.Cut(a, "=")
			a, inline = name, &val
		}
		next := func() *string {
			if inline != nil {
				return inline
			}
			i++
			if i < len(argv) {
				return &argv[i]
			}
			return nil
		}
		switch {
		case a == "--port" || a == "-p":
			n, err := num("--port", next(), 65535)
			if err != nil {
				return o, err
			}
			port = &n
		case a == "--host":
			if v := next(); v != nil {
				host, hostGiven = *v, true
			}
		case a == "--timeout":
			n, err := num("--timeout", next(), 600_000)
			if err != nil {
				return o, err
			}
			o.TimeoutMs = n
		case strings.HasPrefix(a, "/"):
			o.Path = a
		case a == "live" || a == "ready" || a == "health":
			o.Path = "/" + a
		default:
			return o, usageError{"unknown probe argument " + a}
		}
	}
	if port == nil {
		if v := getenv("SHELLFREE_HEALTH_PORT"); v != "" {
			n, err := num("SHELLFREE_HEALTH_PORT", &v, 65535)
			if err != nil {
				return o, err
			}
			port = &n
		}
	}
	var cfgPort *int
	cfgHost := ""
	if port == nil || !hostGiven {
		cfgPort, cfgHost = configHealth(getenv)
	}
	if port == nil {
		if cfgPort != nil {
			port = cfgPort
		} else {
			n := defaultHealthPort
			port = &n
		}
	}
	if !hostGiven {
		host = getenv("SHELLFREE_HEALTH_HOST")
		if host == "" {
			host = cfgHost
		}
		if host == "" {
			host = "127.0.0.1"
		}
	}
	switch host {
	case "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if *port == 0 {
		return o, usageError{"health port is 0 (ephemeral): give --port"}
	}
	o.Host, o.Port = host, *port
	return o, nil
}

// probe HEADs the endpoint: the HTTP status (0 without an answer) and a detail.
func probe(o ProbeOptions) (int, string) {
	timeout := time.Duration(o.TimeoutMs) * time.Millisecond
	noAnswer := sprintf("no answer within %d ms", o.TimeoutMs)
	addr := joinHostPort(o.Host, o.Port)
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		if isTimeout(err) {
			return 0, noAnswer
		}
		return 0, sprintf("%s %s:%d", errCode(err), o.Host, o.Port)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	hostHdr := o.Host
	if strings.Contains(hostHdr, ":") {
		hostHdr = "[" + hostHdr + "]"
	}
	if _, err := io.WriteString(c, sprintf("HEAD %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", o.Path, hostHdr, o.Port)); err != nil {
		return 0, sprintf("%s %s:%d", errCode(err), o.Host, o.Port)
	}
	line, err := bufio.NewReaderSize(c, 4096).ReadSlice('\n')
	if err != nil {
		if isTimeout(err) {
			return 0, noAnswer
		}
		if len(line) == 0 {
			return 0, "connection closed without an answer"
		}
		return 0, "malformed answer"
	}
	text := strings.TrimRight(string(line), "\r\n")
	m := statusLineRE().FindStringSubmatch(text)
	if m == nil {
		return 0, "malformed answer"
	}
	code, _ := strconv.Atoi(m[1])
	return code, text
}

func probeMain(argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseProbeArgs(argv, getenv)
	if err != nil {
		fprintf(stderr, "probe: %s\n", err)
		return 2
	}
	status, detail := probe(o)
	ok := status >= 200 && status < 300
	shown := "error"
	if status != 0 {
		shown = strconv.Itoa(status)
	}
	if ok {
		fprintf(stdout, "%s: %s ok\n", o.Path, shown)
		return 0
	}
	fprintf(stdout, "%s: %s not ok (%s)\n", o.Path, shown, detail)
	return 1
}
