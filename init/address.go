package main

import "strings"

// IP address literals and `listening` targets, read as src/init/address.ts reads them: IPv4 as
// four decimal parts 0-255 without leading zeros, IPv6 in the RFC 4291 text form (groups of 1
// to 4 hex digits, one `::` standing for at least one zero group, an IPv4 tail allowed; no
// zone). Written by hand rather than with net/netip so that both sides accept the same strings.

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func hexValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// parseIPv4 reads "a.b.c.d".
func parseIPv4(s string) ([]byte, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil, false
	}
	out := make([]byte, 4)
	for i, p := range parts {
		if !allDigits(p) || len(p) > 3 || len(p) > 1 && p[0] == '0' {
			return nil, false
		}
		n := 0
		for j := 0; j < len(p); j++ {
			n = n*10 + int(p[j]-'0')
		}
		if n > 255 {
			return nil, false
		}
		out[i] = byte(n)
	}
	return out, true
}

// v6Groups reads the 16-bit groups of one side of `::` (an IPv4 tail, only where last, counts two).
func v6Groups(h string, last bool) ([]int, bool) {
	if h == "" {
		return nil, true
	}
	var out []int
	parts := strings.Split(h, ":")
	for i, p := range parts {
		if last && i == len(parts)-1 && strings.Contains(p, ".") {
			v4, ok := parseIPv4(p)
			if !ok {
				return nil, false
			}
			out = append(out, int(v4[0])<<8|int(v4[1]), int(v4[2])<<8|int(v4[3]))
			continue
		}
		if len(p) < 1 || len(p) > 4 {
			return nil, false
		}
		g := 0
		for j := 0; j < len(p); j++ {
			v, ok := hexValue(p[j])
			if !ok {
				return nil, false
			}
			g = g<<4 | v
		}
		out = append(out, g)
	}
	return out, true
}

// parseIPv6 reads an IPv6 address without brackets.
func parseIPv6(s string) ([]byte, bool) {
	halves := strings.Split(s, "::")
	if len(halves) > 2 {
		return nil, false
	}
	head, ok := v6Groups(halves[0], len(halves) == 1)
	if !ok {
		return nil, false
	}
	var tail []int
	if len(halves) == 2 {
		if tail, ok = v6Groups(halves[1], true); !ok {
			return nil, false
		}
	}
	n := len(head) + len(tail)
	if len(halves) == 1 && n != 8 || len(halves) == 2 && n > 7 {
		return nil, false
	}
	groups := append(append(head, make([]int, 8-n)...), tail...)
	out := make([]byte, 16)
	for i, g := range groups {
		out[2*i], out[2*i+1] = byte(g>>8), byte(g)
	}
	return out, true
}

// listenTarget is a parsed `listening` target: Addr is 4 or 16 bytes, nil for any address.
type listenTarget struct {
	Addr []byte
	Port int
}

// parseListenTarget reads "PORT" or "ADDRESS:PORT" (IPv4, or IPv6 in brackets; no names).
func parseListenTarget(s string) (listenTarget, bool) {
	host, portText := "", s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, portText = s[:i], s[i+1:]
	}
	if !allDigits(portText) || len(portText) > 5 {
		return listenTarget{}, false
	}
	port := 0
	for j := 0; j < len(portText); j++ {
		port = port*10 + int(portText[j]-'0')
	}
	if port < 1 || port > 65535 {
		return listenTarget{}, false
	}
	t := listenTarget{Port: port}
	if host == "" && !strings.Contains(s, ":") {
		return t, true
	}
	var ok bool
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		inner := host[1 : len(host)-1]
		if strings.Contains(inner, "]") {
			return listenTarget{}, false
		}
		t.Addr, ok = parseIPv6(inner)
	} else {
		for i := 0; i < len(host); i++ {
			if host[i] != '.' && (host[i] < '0' || host[i] > '9') {
				return listenTarget{}, false
			}
		}
		t.Addr, ok = parseIPv4(host)
	}
	if !ok {
		return listenTarget{}, false
	}
	return t, true
}
