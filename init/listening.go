package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// The `listening` check: is a socket in LISTEN state on an address and port, in the init's
// network namespace? Read from /proc/net/tcp and /proc/net/tcp6 without connecting: servers
// such as Squid write an access-log line for every bare connection, so a `tcp` check pollutes
// their log at every period.
//
// /proc/net/tcp prints each address as 32-bit words in hex, each word as the kernel's CPU reads
// it from memory, where the address's bytes are in network order: 127.0.0.1 is "0100007F" on a
// little-endian kernel and "7F000001" on a big-endian one (s390x); ports are numbers in hex.
// The kernel's byte order is not always the init's: an s390x image run by qemu-user on an
// x86-64 host reads the host kernel's table. So an address is read in this CPU's byte order
// first and, when that does not match, in the other: a socket would have to be bound to the
// byte-swapped address (1.0.0.127 for 127.0.0.1) to be taken for the wrong one. (A check of a
// bare port then names the socket's address in this CPU's order, which may be the swapped one.)
// The kernel lists listening sockets first, so reading stops at the first line in a state
// other than LISTEN or SYN_RECV (old kernels printed a listener's open requests, in SYN_RECV,
// right after it): a proxy with thousands of connections costs one short read.

// procNetDir is where the tables are (tests point it at fixtures).
var procNetDir = "/proc/net"

// bigEndian: how this CPU stores a word (the order tried first).
var bigEndian = func() bool {
	x := uint16(1)
	return (*[2]byte)(unsafe.Pointer(&x))[0] == 0
}()

const (
	tcpListen  = "0A"
	tcpSynRecv = "03"
)

// listeningSocket is a socket in LISTEN state: Addr is 4 bytes (tcp) or 16 (tcp6).
type listeningSocket struct {
	Addr []byte
	Port int
}

// String: 127.0.0.1:3128, [::1]:3128.
func (s listeningSocket) String() string {
	return net.JoinHostPort(net.IP(s.Addr).String(), strconv.Itoa(s.Port))
}

// parseHexAddr reads an address column ("0100007F:0C38"), words in the given byte order.
func parseHexAddr(col string, big bool) (listeningSocket, bool) {
	hexAddr, hexPort, ok := strings.Cut(col, ":")
	if !ok || len(hexPort) != 4 || len(hexAddr) != 8 && len(hexAddr) != 32 {
		return listeningSocket{}, false
	}
	port := 0
	for i := 0; i < 4; i++ {
		v, ok := hexValue(hexPort[i])
		if !ok {
			return listeningSocket{}, false
		}
		port = port<<4 | v
	}
	addr := make([]byte, len(hexAddr)/2)
	for i := range addr {
		hi, ok1 := hexValue(hexAddr[2*i])
		lo, ok2 := hexValue(hexAddr[2*i+1])
		if !ok1 || !ok2 {
			return listeningSocket{}, false
		}
		addr[i] = byte(hi<<4 | lo)
	}
	if !big { // each word was printed most significant byte first: reverse it
		for w := 0; w < len(addr); w += 4 {
			addr[w], addr[w+1], addr[w+2], addr[w+3] = addr[w+3], addr[w+2], addr[w+1], addr[w]
		}
	}
	return listeningSocket{addr, port}, true
}

// scanListening calls found for each listening socket of a table, its address read in the byte
// order big says and then in the other, until found returns true (then scanListening does
// too); it stops at the end of the listening sockets.
func scanListening(r io.Reader, big bool, found func(listeningSocket) bool) (bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		switch strings.ToUpper(f[3]) {
		case tcpListen:
		case tcpSynRecv:
			continue
		default:
			return false, nil
		}
		if s, ok := parseHexAddr(f[1], big); ok && found(s) {
			return true, nil
		}
		if s, ok := parseHexAddr(f[1], !big); ok && found(s) {
			return true, nil
		}
	}
	return false, sc.Err()
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// unmapped gives an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4.
func unmapped(a []byte) []byte {
	if len(a) == 16 && isZero(a[:10]) && a[10] == 0xff && a[11] == 0xff {
		return a[12:]
	}
	return a
}

// serves: does the socket accept connections to the target? The same port, and the same
// address or a wildcard: 0.0.0.0 for IPv4 addresses, [::] for any (a [::] socket takes IPv4
// too unless it is IPV6_V6ONLY, which /proc does not show; Linux's default is dual-stack).
func (s listeningSocket) serves(t listenTarget) bool {
	if s.Port != t.Port {
		return false
	}
	if t.Addr == nil || len(s.Addr) == 16 && isZero(s.Addr) {
		return true
	}
	a, want := unmapped(s.Addr), unmapped(t.Addr)
	if len(a) == 4 && isZero(a) && len(want) == 4 {
		return true
	}
	return string(a) == string(want)
}

// listeningCheck passes when a socket in /proc/net/tcp or tcp6 serves target.
func listeningCheck(target string) CheckResult {
	t, ok := parseListenTarget(target)
	if !ok {
		return CheckResult{false, "bad target " + target}
	}
	var hit listeningSocket
	for _, name := range []string{"tcp", "tcp6"} {
		path := procNetDir + "/" + name
		f, err := os.Open(path)
		if err != nil {
			if name == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue // IPv6 disabled
			}
			return CheckResult{false, sprintf("listening %s: cannot read %s: %s", target, path, errCode(err))}
		}
		found, err := scanListening(f, bigEndian, func(s listeningSocket) bool {
			if s.serves(t) {
				hit = s
				return true
			}
			return false
		})
		f.Close()
		if err != nil {
			return CheckResult{false, sprintf("listening %s: cannot read %s: %s", target, path, errCode(err))}
		}
		if found {
			return CheckResult{true, sprintf("listening %s: %s in LISTEN state", target, hit.String())}
		}
	}
	return CheckResult{false, sprintf("listening %s: no socket in LISTEN state", target)}
}
