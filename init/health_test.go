package main

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEndpointsGETAndHEAD(t *testing.T) {
	appPort := freePort(t)
	p := startInit(t, initOpts{config: obj{
		{"main", appArgv("listen", strconv.Itoa(appPort), "1000")},
		{"health", obj{{"port", 0}, {"host", "127.0.0.1"}, {"ready", obj{{"http", "http://127.0.0.1:" + strconv.Itoa(appPort) + "/"}}}}},
	}})
	port := p.port()
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	r0 := get(t, port, "/ready")
	if r0.status != 503 || jsonField(t, r0.body, "status") != "not-ready" || jsonField(t, r0.body, "reason") != "readiness check failed" ||
		!strings.Contains(jsonField(t, r0.body, "check").(string), "ECONNREFUSED") {
		t.Fatalf("not ready yet: %d %s", r0.status, r0.body)
	}
	if h, _ := httpDo(port, "HEAD", "/ready"); h.status != 503 || h.body != "" {
		t.Errorf("HEAD /ready %d %q", h.status, h.body)
	}
	if get(t, port, "/health").status != 503 {
		t.Error("/health while not ready")
	}
	live := get(t, port, "/live")
	if live.status != 200 || jsonField(t, live.body, "status") != "ok" || live.headers["content-type"] != "application/json" || live.headers["cache-control"] != "no-store" {
		t.Errorf("/live %d %v %s", live.status, live.headers, live.body)
	}
	until(t, 5*time.Second, func() bool { return get(t, port, "/ready").status == 200 })
	p.waitLine(`\[INFO\] Ready \(http http://127\.0\.0\.1:\d+/: 200; \d+ ms after start\)`, 5*time.Second)
	r1 := get(t, port, "/ready")
	if jsonField(t, r1.body, "status") != "ready" || jsonField(t, r1.body, "main").(*jsObject).field("running") != true {
		t.Errorf("/ready %s", r1.body)
	}
	h := get(t, port, "/health")
	if h.status != 200 || !strings.HasPrefix(h.body, `{"status":"ok","live":true,"ready":true,"state":"RUNNING","uptimeMs":`) {
		t.Errorf("/health %d %s", h.status, h.body)
	}
	for _, path := range []string{"/live", "/ready", "/health"} {
		g := get(t, port, path)
		head, _ := httpDo(port, "HEAD", path)
		if head.status != 200 || head.body != "" || head.headers["content-length"] != g.headers["content-length"] && path == "/live" {
			t.Errorf("HEAD %s: %d %q %v", path, head.status, head.body, head.headers)
		}
	}
	post, _ := httpDo(port, "POST", "/ready")
	if post.status != 405 || post.headers["allow"] != "GET, HEAD" {
		t.Errorf("POST %d %v", post.status, post.headers)
	}
	if nf := get(t, port, "/metrics"); nf.status != 404 || nf.body != `{"status":"not-found","endpoints":["/live","/ready","/health"]}`+"\n" {
		t.Errorf("404 %d %s", nf.status, nf.body)
	}
	if q := get(t, port, "/live?verbose=1"); q.status != 200 {
		t.Errorf("query string: %d", q.status)
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}

func TestReadyTurns503BeforeTheSignalAndAnswersUntilExit(t *testing.T) {
	d := t.TempDir()
	p := startInit(t, initOpts{dir: d, config: obj{{"main", appArgv("trap", "SIGTERM", "500")}, {"health", health}, {"shutdown", obj{{"grace", "5s"}, {"drain", "700ms"}}}}})
	port := p.port()
	until(t, 5*time.Second, func() bool { return get(t, port, "/ready").status == 200 })
	p.waitStdout("armed", 10*time.Second)
	p.signal(syscall.SIGTERM)
	var first503 time.Time
	seen503, liveOK := 0, 0
	for {
		select {
		case <-p.exited:
		default:
			r, err := httpDo(port, "GET", "/ready")
			if err != nil {
				select {
				case <-p.exited:
				case <-time.After(200 * time.Millisecond):
					t.Fatalf("refused before exit: %v", err)
				}
				break
			}
			if r.status == 503 {
				seen503++
				if first503.IsZero() {
					first503 = time.Now()
					if jsonField(t, r.body, "reason") != "shutting down" {
						t.Errorf("reason %s", r.body)
					}
				}
			}
			if l, err := httpDo(port, "GET", "/live"); err == nil && l.status == 200 {
				liveOK++
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		break
	}
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
	if seen503 < 5 || liveOK < 5 {
		t.Fatalf("503 seen %d times, live %d times", seen503, liveOK)
	}
	// the drain: 700 ms between readiness 503 and the signal, in the init's own timestamps
	stamp := func(re string) time.Time {
		l := p.waitLine(re, time.Second)
		ts, _ := time.ParseInLocation("2006-01-02 15:04:05.000", l[:23], time.Local)
		return ts
	}
	if gap := stamp(`Sending SIGTERM`).Sub(stamp(`Readiness is now 503`)); gap < 690*time.Millisecond {
		t.Fatalf("drain %v", gap)
	}
	if !strings.Contains(p.Stdout(), "bye") {
		t.Error("main did not finish")
	}
}

func TestExecReadinessAndEnvPort(t *testing.T) {
	d := t.TempDir()
	flag := filepath.Join(d, "ready-flag")
	port := freePort(t)
	p := startInit(t, initOpts{dir: d, env: map[string]string{"SHELLFREE_HEALTH_PORT": strconv.Itoa(port)}, config: obj{
		{"main", appArgv("touch", flag, "600")},
		{"health", obj{{"port", 1}, {"host", "127.0.0.1"}, {"ready", obj{{"exec", []string{"test", "-e", flag}}}}}},
	}})
	if p.port() != port {
		t.Fatal("env port not used")
	}
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	if get(t, port, "/ready").status != 503 {
		t.Error("ready before the flag")
	}
	until(t, 5*time.Second, func() bool { return get(t, port, "/ready").status == 200 })
	p.signal(syscall.SIGTERM)
	if code, _ := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.log())
	}
}

func TestKeepAliveAndBadRequests(t *testing.T) {
	p := startInit(t, initOpts{config: obj{{"main", appArgv("sleep")}, {"health", health}}})
	port := p.port()
	p.waitLine(`State: STARTING -> RUNNING`, 10*time.Second)
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ { // three requests on one connection
		io.WriteString(c, "GET /live HTTP/1.1\r\nHost: x\r\n\r\n")
		status, _ := br.ReadString('\n')
		n := 0
		for {
			l, _ := br.ReadString('\n')
			if l == "\r\n" {
				break
			}
			if strings.HasPrefix(l, "Content-Length: ") {
				n, _ = strconv.Atoi(strings.TrimSpace(l[16:]))
			}
		}
		body := make([]byte, n)
		io.ReadFull(br, body)
		if !strings.HasPrefix(status, "HTTP/1.1 200 OK") || !strings.HasPrefix(string(body), `{"status":"ok"`) {
			t.Fatalf("request %d: %q %q", i, status, body)
		}
	}
	b, _ := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	defer b.Close()
	io.WriteString(b, "NONSENSE\r\n\r\n")
	b.SetDeadline(time.Now().Add(3 * time.Second))
	answer, _ := io.ReadAll(b)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 400 Bad Request") {
		t.Fatalf("bad request: %q", answer)
	}
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
}

func TestReadRequest(t *testing.T) {
	for in, want := range map[string]string{
		"GET /ready HTTP/1.1\r\nHost: a\r\n\r\n":                  "GET /ready keep",
		"GET /ready HTTP/1.0\r\n\r\n":                             "GET /ready close",
		"GET /ready HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n":   "GET /ready keep",
		"HEAD /live HTTP/1.1\r\nConnection: close\r\n\r\n":        "HEAD /live close",
		"\r\nGET /x HTTP/1.1\n\n":                                 "GET /x keep",
		"POST /ready HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello":  "POST /ready keep body",
		"GET /ready HTTP/2\r\n\r\n":                               "error",
		"GET  /ready HTTP/1.1\r\n\r\n":                            "error",
		"GET /ready HTTP/1.1\r\nno colon\r\n\r\n":                 "error",
		"GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\n\r\n": "error",
		"GET /ready HTTP/1.1\r\nX: " + strings.Repeat("b", 5000) + "\r\nY: " + strings.Repeat("c", 5000) + "\r\n\r\n": "error",
	} {
		r, err := readRequest(bufio.NewReaderSize(strings.NewReader(in), 4096))
		got := "error"
		if err == nil {
			got = r.method + " " + r.target
			if r.keepAlive {
				got += " keep"
			} else {
				got += " close"
			}
			if r.hasBody {
				got += " body"
			}
		}
		if got != want {
			t.Errorf("%.40q: %s, want %s", in, got, want)
		}
	}
}
