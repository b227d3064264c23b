package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The health server: /live (the init is alive and no alive-level check is down), /ready (the
// main process runs and its readiness checks pass), /health (both). GET answers with a small
// JSON body, HEAD with the same status and headers and no body; 503 when not. Other methods get
// 405, other paths 404. A small HTTP/1.1 server (keep-alive, 5 s idle timeout), not net/http:
// that alone would make the binary twice as big.

// HealthAnswer is one endpoint's verdict.
type HealthAnswer struct {
	OK   bool
	Body obj
}

// HealthSource answers the endpoints.
type HealthSource interface {
	Live() HealthAnswer
	Ready() HealthAnswer
}

// HealthServer serves a HealthSource.
type HealthServer struct {
	ln    net.Listener
	src   HealthSource
	conns atomic.Int32
}

const (
	maxHealthConns  = 512
	healthIdle      = 5 * time.Second
	maxRequestBytes = 8192
)

// listenHealth binds host:port (port 0: any free port).
func listenHealth(host string, port int) (*HealthServer, error) {
	ln, err := net.Listen("tcp", joinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	return &HealthServer{ln: ln}, nil
}

// Port is the port actually bound.
func (h *HealthServer) Port() int { return h.ln.Addr().(*net.TCPAddr).Port }

// Serve accepts connections until the listener is closed.
func (h *HealthServer) Serve(src HealthSource) {
	h.src = src
	for {
		c, err := h.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and such: do not spin
			continue
		}
		if h.conns.Add(1) > maxHealthConns {
			h.conns.Add(-1)
			c.Close()
			continue
		}
		go func() {
			defer h.conns.Add(-1)
			h.serveConn(c)
		}()
	}
}

// Close stops listening.
func (h *HealthServer) Close() { h.ln.Close() }

type request struct {
	method, target string
	keepAlive      bool
	hasBody        bool
}

var errBadRequest = errors.New("bad request")

// readRequest reads a request line and headers (no body: GET and HEAD have none).
func readRequest(br *bufio.Reader) (*request, error) {
	total := 0
	readLine := func() (string, error) {
		line, err := br.ReadSlice('\n')
		total += len(line)
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return "", errBadRequest
			}
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return "", errBadRequest
			}
			return "", err
		}
		if total > maxRequestBytes {
			return "", errBadRequest
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
	var line string
	var err error
	for line == "" { // tolerate empty lines before a request (RFC 9112 2.2)
		if line, err = readLine(); err != nil {
			return nil, err
		}
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, errBadRequest
	}
	req := &request{method: parts[0], target: parts[1]}
	switch parts[2] {
	case "HTTP/1.1":
		req.keepAlive = true
	case "HTTP/1.0":
	default:
		return nil, errBadRequest
	}
	for {
		h, err := readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errBadRequest
			}
			return nil, err
		}
		if h == "" {
			return req, nil
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, errBadRequest
		}
		value = strings.ToLower(strings.TrimSpace(value))
		switch strings.ToLower(name) {
		case "connection":
			for _, tok := range strings.Split(value, ",") {
				switch strings.TrimSpace(tok) {
				case "close":
					req.keepAlive = false
				case "keep-alive":
					req.keepAlive = true
				}
			}
		case "content-length":
			if value != "0" {
				req.hasBody = true
			}
		case "transfer-encoding":
			req.hasBody = true
		}
	}
}

var statusText = map[int]string{
	200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
	500: "Internal Server Error", 503: "Service Unavailable",
}

func writeResponse(w *bufio.Writer, code int, body obj, head, keepAlive bool, extra string) error {
	text := append(body.json(), '\n')
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + statusText[code] + "\r\n")
	b.WriteString("Content-Type: application/json\r\nCache-Control: no-store\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(text)) + "\r\n")
	b.WriteString(extra)
	if !keepAlive {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	if !head {
		b.Write(text)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	return w.Flush()
}

func (h *HealthServer) serveConn(c net.Conn) {
	defer c.Close()
	defer func() { _ = recover() }() // a bug in one answer must not take the init down
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(healthIdle))
		req, err := readRequest(br)
		if err != nil {
			if errors.Is(err, errBadRequest) {
				_ = writeResponse(bw, 400, obj{{"status", "bad-request"}}, false, false, "")
			}
			return
		}
		keep := req.keepAlive && !req.hasBody
		_ = c.SetWriteDeadline(time.Now().Add(healthIdle))
		if err := h.respond(bw, req, keep); err != nil || !keep {
			return
		}
	}
}

func (h *HealthServer) respond(w *bufio.Writer, req *request, keep bool) error {
	path, _, _ := strings.Cut(req.target, "?")
	head := req.method == "HEAD"
	if path != "/live" && path != "/ready" && path != "/health" {
		return writeResponse(w, 404, obj{{"status", "not-found"}, {"endpoints", []string{"/live", "/ready", "/health"}}}, head, keep, "")
	}
	if req.method != "GET" && !head {
		return writeResponse(w, 405, obj{{"status", "method-not-allowed"}}, false, keep, "Allow: GET, HEAD\r\n")
	}
	code := func(ok bool) int {
		if ok {
			return 200
		}
		return 503
	}
	switch path {
	case "/live":
		l := h.src.Live()
		status := "ok"
		if !l.OK {
			status = "not-ok"
		}
		return writeResponse(w, code(l.OK), append(obj{{"status", status}}, l.Body...), head, keep, "")
	case "/ready":
		r := h.src.Ready()
		status := "ready"
		if !r.OK {
			status = "not-ready"
		}
		return writeResponse(w, code(r.OK), append(obj{{"status", status}}, r.Body...), head, keep, "")
	}
	l := h.src.Live()
	r := h.src.Ready()
	ok := l.OK && r.OK
	status := "ok"
	if !ok {
		status = "not-ready"
	}
	body := obj{{"status", status}, {"live", l.OK}, {"ready", r.OK}}
	for _, f := range l.Body {
		body = body.with(f.Key, f.Value)
	}
	for _, f := range r.Body {
		body = body.with(f.Key, f.Value)
	}
	return writeResponse(w, code(ok), body, head, keep, "")
}
