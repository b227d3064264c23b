package main

import (
	"net"
	"testing"
)

// The address grammar shared with src/init/address.ts; the contract fixtures compare the two
// on the same strings, these check the bytes.

func TestParseIPv6(t *testing.T) {
	for _, s := range []string{"::", "::1", "fe80::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"::ffff:127.0.0.1", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4", "ABCD:EF01::", "0:0:0:0:0:0:0:0"} {
		b, ok := parseIPv6(s)
		want := net.ParseIP(s)
		if !ok || want == nil || net.IP(b).String() != want.String() {
			t.Errorf("%s: %v %v, want %v", s, net.IP(b), ok, want)
		}
	}
	for _, s := range []string{"", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4::5:6:7:8", "12345::", ":1::",
		"1:2:3:4:5:6:7:8:", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "1.2.3.4", "fe80::1%eth0",
		"::01.2.3.4", "g::", " ::1"} {
		if b, ok := parseIPv6(s); ok {
			t.Errorf("%q accepted: %v", s, net.IP(b))
		}
	}
}

func TestParseIPv4(t *testing.T) {
	for s, ok := range map[string]bool{"0.0.0.0": true, "255.255.255.255": true, "10.1.2.3": true,
		"256.1.1.1": false, "01.1.1.1": false, "1.1.1": false, "1.1.1.1.1": false, "1..1.1": false, "a.1.1.1": false, "1.1.1.1 ": false} {
		if _, got := parseIPv4(s); got != ok {
			t.Errorf("%q: %v", s, got)
		}
	}
}

func TestParseListenTarget(t *testing.T) {
	for s, want := range map[string]string{"80": "any:80", "080": "any:80", "127.0.0.1:3128": "127.0.0.1:3128",
		"[::]:1": ":::1", "[::ffff:1.2.3.4]:65535": "::ffff:1.2.3.4:65535"} {
		tg, ok := parseListenTarget(s)
		got := "any"
		if tg.Addr != nil {
			got = net.IP(tg.Addr).String()
			if len(tg.Addr) == 16 && net.IP(tg.Addr).To4() != nil {
				got = "::ffff:" + got
			}
		}
		got += ":" + itoaTest(tg.Port)
		if !ok || got != want {
			t.Errorf("%s: %s %v, want %s", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "0", "65536", "000080", ":80", "[::1]", "::1:80", "localhost:80", "*:80", "[a]b]:80", "1.2.3.4:", "[1.2.3.4]:80"} {
		if _, ok := parseListenTarget(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func itoaTest(n int) string { return sprintf("%d", n) }
