package main

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The listening check against /proc/net/tcp{,6} tables written for both byte orders
// (testdata/procnet: the same sockets as a little-endian and a big-endian kernel print them),
// and against this machine's own tables with a real listener.

func TestByteOrderOfThisMachine(t *testing.T) {
	big := map[string]bool{"s390x": true, "ppc64": true, "mips": true, "mips64": true}
	if bigEndian != big[runtime.GOARCH] {
		t.Fatalf("bigEndian %v on %s", bigEndian, runtime.GOARCH)
	}
}

func TestParseHexAddr(t *testing.T) {
	for _, c := range []struct {
		col  string
		big  bool
		want string
	}{
		{"0100007F:0C38", false, "127.0.0.1:3128"},
		{"7F000001:0C38", true, "127.0.0.1:3128"},
		{"0302010A:1F90", false, "10.1.2.3:8080"},
		{"0A010203:1f90", true, "10.1.2.3:8080"},
		{"00000000000000000000000001000000:0050", false, "[::1]:80"},
		{"00000000000000000000000000000001:0050", true, "[::1]:80"},
		{"000080FE000000000000000001000000:FFFF", false, "[fe80::1]:65535"},
		{"B80D0120000000000000000001000000:0001", false, "[2001:db8::1]:1"},
		{"20010DB8000000000000000000000001:0001", true, "[2001:db8::1]:1"},
	} {
		s, ok := parseHexAddr(c.col, c.big)
		if !ok || s.String() != c.want {
			t.Errorf("%s big=%v: %v %v, want %s", c.col, c.big, s, ok, c.want)
		}
	}
	for _, bad := range []string{"0100007F", "0100007F:C38", "0100007:0C38", "0100007G:0C38", "0100007F:0C3G", "0100007F0100007F:0C38", ""} {
		if _, ok := parseHexAddr(bad, false); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func withProcNet(t *testing.T, dir string, big bool) {
	t.Helper()
	oldDir, oldBig := procNetDir, bigEndian
	procNetDir, bigEndian = dir, big
	t.Cleanup(func() { procNetDir, bigEndian = oldDir, oldBig })
}

func TestListeningFixturesBothByteOrders(t *testing.T) {
	cases := []struct {
		target string
		ok     bool
		detail string
	}{
		{"15432", true, "127.0.0.1:15432 in LISTEN state"},
		{"127.0.0.1:15432", true, "127.0.0.1:15432 in LISTEN state"},
		{"127.0.0.2:15432", false, ""},
		{"[::1]:15432", false, ""},               // an IPv4 socket does not take IPv6
		{"127.0.0.1:2024", true, "0.0.0.0:2024"}, // the IPv4 wildcard
		{"10.9.9.9:2024", true, "0.0.0.0:2024"},
		{"[::1]:2024", false, ""},
		{"10.1.2.3:8080", true, "10.1.2.3:8080"},
		{"10.1.2.4:8080", false, ""},
		{"3128", true, "[::]:3128"},
		{"127.0.0.1:3128", true, "[::]:3128"}, // [::] is dual-stack
		{"[::1]:3128", true, "[::]:3128"},
		{"[::1]:9000", true, "[::1]:9000"},
		{"127.0.0.1:9000", false, ""},
		{"127.0.0.2:7000", true, "127.0.0.2:7000"}, // IPv4-mapped (net.IP shows it as IPv4)
		{"[::ffff:127.0.0.2]:7000", true, "127.0.0.2:7000"},
		{"127.0.0.3:7000", false, ""},
		{"[FE80::1]:5353", true, "[fe80::1]:5353"},
		{"5000", false, ""},  // an open request (SYN_RECV), not a listener
		{"33485", false, ""}, // TIME_WAIT
		{"38000", false, ""}, // ESTABLISHED
		{"3129", false, ""},  // after the first line that is not a listener: not read
		{"4000", false, ""},
		{"1", false, ""},
	}
	for _, order := range []string{"little-endian", "big-endian"} {
		withProcNet(t, filepath.Join("testdata/procnet", order), order == "big-endian")
		for _, c := range cases {
			r := listeningCheck(c.target)
			if r.OK != c.ok || !strings.HasPrefix(r.Detail, "listening "+c.target+": ") {
				t.Errorf("%s %s: %+v", order, c.target, r)
				continue
			}
			if c.ok && !strings.Contains(r.Detail, c.detail) {
				t.Errorf("%s %s: detail %q, want %q", order, c.target, r.Detail, c.detail)
			}
			if !c.ok && r.Detail != "listening "+c.target+": no socket in LISTEN state" {
				t.Errorf("%s %s: detail %q", order, c.target, r.Detail)
			}
		}
	}
	// a table of the other byte order (an s390x image under qemu-user on an x86-64 kernel, or
	// the reverse) reads the same: the address is tried in both orders
	for _, order := range []string{"little-endian", "big-endian"} {
		withProcNet(t, filepath.Join("testdata/procnet", order), order == "little-endian")
		for _, c := range cases {
			r := listeningCheck(c.target)
			if r.OK != c.ok {
				t.Errorf("%s table, the other CPU: %s: %+v", order, c.target, r)
			}
			// a target with an address shows the socket as it matched; a bare port shows the
			// address in this CPU's order (the swapped one here)
			if c.ok && strings.Contains(c.target, ":") && !strings.Contains(r.Detail, c.detail) {
				t.Errorf("%s table, the other CPU: %s: detail %q, want %q", order, c.target, r.Detail, c.detail)
			}
		}
	}
	// the price: a socket on the byte-swapped address (1.0.0.127 for 127.0.0.1) is taken for it
	withProcNet(t, "testdata/procnet/little-endian", false)
	if r := listeningCheck("1.0.0.127:15432"); !r.OK || r.Detail != "listening 1.0.0.127:15432: 1.0.0.127:15432 in LISTEN state" {
		t.Errorf("swapped: %+v", r)
	}
}

func TestListeningMissingTables(t *testing.T) {
	d := t.TempDir()
	data, _ := os.ReadFile("testdata/procnet/little-endian/tcp")
	os.WriteFile(filepath.Join(d, "tcp"), data, 0o644)
	withProcNet(t, d, false)
	if r := listeningCheck("15432"); !r.OK { // no tcp6 (IPv6 disabled): fine
		t.Errorf("without tcp6: %+v", r)
	}
	os.Remove(filepath.Join(d, "tcp"))
	r := listeningCheck("15432")
	if r.OK || r.Detail != "listening 15432: cannot read "+d+"/tcp: ENOENT" {
		t.Errorf("without tcp: %+v", r)
	}
	if r := listeningCheck("x"); r.OK || r.Detail != "bad target x" {
		t.Errorf("bad target: %+v", r)
	}
}

func TestListeningThisMachine(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		host := "127.0.0.1"
		if network == "tcp6" {
			host = "::1"
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		target := joinHostPort(host, port)
		if r := listeningCheck(target); !r.OK {
			t.Errorf("%s listening: %+v", target, r)
		}
		other := "127.0.0.1"
		if network == "tcp4" {
			other = "::1"
		}
		if r := listeningCheck(joinHostPort(other, port)); r.OK {
			t.Errorf("%s: the other family passes: %+v", target, r)
		}
		// a connected socket on the same port is no listener
		c, err := net.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		if r := listeningCheck(target); r.OK {
			t.Errorf("%s closed: %+v", target, r)
		}
		c.Close()
	}
}
