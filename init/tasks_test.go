package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Pre-start tasks through the real init: each kind, its success, skip and failure paths, and
// that a failure stops everything before the main process starts (exit 1).

const fixtures = "testdata"

type taskRun struct {
	code    int
	p       *initProc
	mainRan bool
}

func runTasks(t *testing.T, dir string, tasks []any, o initOpts) taskRun {
	t.Helper()
	marker := filepath.Join(dir, "main-ran")
	os.Remove(marker)
	o.dir = dir
	o.config = obj{{"tasks", tasks}, {"main", appArgv("append", marker, "0")}, {"health", health}}
	p := startInit(t, o)
	code, _ := p.exit(30 * time.Second)
	_, err := os.Stat(marker)
	return taskRun{code, p, err == nil}
}

func (r taskRun) has(t *testing.T, re string) {
	t.Helper()
	if !r.p.hasMessage(re) {
		t.Fatalf("no %s in:\n%s", re, r.p.log())
	}
}

func TestValidate(t *testing.T) {
	d := t.TempDir()
	if r := runTasks(t, d, []any{obj{{"validate", appArgv("exit", "0")}}}, initOpts{}); r.code != 0 || !r.mainRan {
		t.Fatalf("%d %v", r.code, r.mainRan)
	}
	r := runTasks(t, d, []any{obj{{"validate", appArgv("stderr-exit", "1", "FATAL: Bungled squid.conf line 3")}}}, initOpts{})
	if r.code != 1 || r.mainRan {
		t.Fatalf("%d %v", r.code, r.mainRan)
	}
	r.has(t, `^Task 1/1 validate .*: failed: exit code 1$`)
	r.has(t, `^  \| FATAL: Bungled squid\.conf line 3$`)
	r.has(t, `^State: VALIDATING -> ERROR$`)
}

func TestTaskTimeoutKillsTheGroup(t *testing.T) {
	d := t.TempDir()
	r := runTasks(t, d, []any{obj{{"validate", appArgv("sleep", "53.5")}, {"timeout", "300ms"}}}, initOpts{})
	if r.code != 1 || r.mainRan {
		t.Fatalf("%d", r.code)
	}
	r.has(t, `^Task 1/1 validate \S+ sleep 53\.5: failed: timed out after 300 ms \(process group killed\)$`)
	until(t, 3*time.Second, func() bool { return len(pidsWithArg("53.5")) == 0 })
}

func TestCommandThatDoesNotExist(t *testing.T) {
	r := runTasks(t, t.TempDir(), []any{obj{{"validate", []string{"/no/such/validator"}}}}, initOpts{})
	if r.code != 1 {
		t.Fatal(r.code)
	}
	r.has(t, `failed: cannot execute /no/such/validator: ENOENT$`)
}

func TestEnsureDir(t *testing.T) {
	d := t.TempDir()
	if r := runTasks(t, d, []any{obj{{"ensure-dir", filepath.Join(d, "a/b/c")}}}, initOpts{}); r.code != 0 {
		t.Fatal(r.p.log())
	}
	if st, err := os.Stat(filepath.Join(d, "a/b/c")); err != nil || !st.IsDir() {
		t.Fatal("not created")
	}
	r := runTasks(t, d, []any{obj{{"ensure-dir", filepath.Join(d, "nope")}, {"create", false}}}, initOpts{})
	if r.code != 1 || r.mainRan {
		t.Fatal(r.code)
	}
	r.has(t, `directory \S+/nope does not exist \(create: false\)$`)
	os.WriteFile(filepath.Join(d, "f"), nil, 0o644)
	r = runTasks(t, d, []any{obj{{"ensure-dir", filepath.Join(d, "f")}}}, initOpts{})
	if r.code != 1 {
		t.Fatal(r.code)
	}
	r.has(t, `/f exists but is not a directory$`)
}

func TestEnsureDirNotWritable(t *testing.T) {
	requireRoot(t)
	d := openDir(t)
	os.Chmod(d, 0o777)
	locked := filepath.Join(d, "locked")
	os.Mkdir(locked, 0o755)
	os.Chmod(locked, 0o755)
	r := runTasks(t, d, []any{obj{{"ensure-dir", locked}, {"writable", true}}}, initOpts{asUser: true, uid: 65532, gid: 65532})
	if r.code != 1 || r.mainRan {
		t.Fatal(r.p.log())
	}
	r.has(t, "^Task 1/1 ensure-dir "+regexp.QuoteMeta(locked)+": failed: directory "+regexp.QuoteMeta(locked)+
		` is not writable by UID 65532 GID 65532 \(owner 0:0, mode 0755\): EACCES \(permission denied\)$`)
}

func TestMergePem(t *testing.T) {
	d := t.TempDir()
	out := filepath.Join(d, "ca.pem")
	crt, key := filepath.Join(fixtures, "tls.crt"), filepath.Join(fixtures, "tls.key")
	crtAbs, _ := filepath.Abs(crt)
	keyAbs, _ := filepath.Abs(key)
	r := runTasks(t, d, []any{obj{{"merge-pem", obj{{"cert", crtAbs}, {"key", keyAbs}, {"out", out}}}, {"when-exists", true}}}, initOpts{})
	if r.code != 0 {
		t.Fatal(r.p.log())
	}
	got, _ := os.ReadFile(out)
	c, _ := os.ReadFile(crt)
	k, _ := os.ReadFile(key)
	if string(got) != strings.TrimSpace(string(c))+"\n"+strings.TrimSpace(string(k))+"\n" {
		t.Fatalf("merged:\n%s", got)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	r.has(t, `merge-pem .*: ok \(wrote \S+ca\.pem \(mode 0600, 1 certificate\(s\) \+ key\)`)
}

func TestMergePemSkippedAndMissing(t *testing.T) {
	d := t.TempDir()
	task := obj{{"cert", filepath.Join(d, "tls.crt")}, {"key", filepath.Join(d, "tls.key")}, {"out", filepath.Join(d, "ca.pem")}}
	r := runTasks(t, d, []any{obj{{"merge-pem", task}, {"when-exists", true}}}, initOpts{})
	if r.code != 0 {
		t.Fatal(r.p.log())
	}
	r.has(t, `merge-pem .*: skipped \(.*tls\.crt, .*tls\.key missing \(when-exists\)`)
	r = runTasks(t, d, []any{obj{{"merge-pem", task}}}, initOpts{})
	if r.code != 1 {
		t.Fatal(r.code)
	}
	r.has(t, `failed: input missing: `)
}

func TestMergePemBadInputs(t *testing.T) {
	d := t.TempDir()
	cert, key, out := filepath.Join(d, "tls.crt"), filepath.Join(d, "tls.key"), filepath.Join(d, "ca.pem")
	task := []any{obj{{"merge-pem", obj{{"cert", cert}, {"key", key}, {"out", out}}}}}
	goodKey, _ := os.ReadFile(filepath.Join(fixtures, "tls.key"))
	goodCrt, _ := os.ReadFile(filepath.Join(fixtures, "tls.crt"))
	otherKey, _ := os.ReadFile(filepath.Join(fixtures, "other.key"))
	for _, c := range []struct{ cert, key, want string }{
		{"this is not a certificate\n", string(goodKey), regexp.QuoteMeta(cert) + `: no valid PEM CERTIFICATE block$`},
		{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", string(goodKey), `: not a valid X\.509 certificate`},
		{string(goodCrt), "garbage", `tls\.key: no valid PEM PRIVATE KEY block$`},
		{string(goodCrt), string(goodKey) + string(otherKey), `tls\.key: 2 PRIVATE KEY blocks \(expected one\)$`},
		{string(goodCrt), string(otherKey), `tls\.key does not match the certificate in `},
	} {
		os.WriteFile(cert, []byte(c.cert), 0o644)
		os.WriteFile(key, []byte(c.key), 0o644)
		r := runTasks(t, d, task, initOpts{})
		if r.code != 1 || r.mainRan {
			t.Fatalf("%s: %d", c.want, r.code)
		}
		r.has(t, c.want)
		if _, err := os.Stat(out); err == nil {
			t.Fatal("written")
		}
	}
}

func TestRunWhenMissing(t *testing.T) {
	d := t.TempDir()
	made := filepath.Join(d, "made")
	task := obj{{"run", appArgv("append", made, "0")}, {"when-missing", made}}
	if r := runTasks(t, d, []any{task}, initOpts{}); r.code != 0 {
		t.Fatal(r.p.log())
	} else {
		r.has(t, `^Task 1/1 run .*: ok \(exit code 0`)
	}
	r := runTasks(t, d, []any{task}, initOpts{})
	r.has(t, `^Task 1/1 run .*: skipped \(\S+/made exists`)
	if b, _ := os.ReadFile(made); string(b) != "x" {
		t.Errorf("ran twice: %q", b)
	}
	r = runTasks(t, d, []any{obj{{"run", appArgv("exit", "4")}}}, initOpts{})
	if r.code != 1 || r.mainRan {
		t.Fatal(r.code)
	}
	r.has(t, `^Task 1/1 run .*: failed: exit code 4$`)
}

func TestConditions(t *testing.T) {
	d := t.TempDir()
	conf := filepath.Join(d, "squid.conf")
	os.WriteFile(conf, []byte("acl localnet src 10.0.0.0/8\r\nhttp_port 3128 ssl-bump cert=/x\n"), 0o644)
	ran := filepath.Join(d, "ran")
	tasks := []any{
		obj{{"run", appArgv("append", ran, "0")}, {"when-file-matches", obj{{"path", conf}, {"regex", `^\s*http_port\s.*\bssl-bump\b`}}}},
		obj{{"run", appArgv("exit", "9")}, {"when-file-matches", obj{{"path", conf}, {"regex", `^https_port`}}}},
		obj{{"run", appArgv("exit", "9")}, {"when-file-matches", obj{{"path", filepath.Join(d, "none")}, {"regex", `x`}}}},
		obj{{"validate", appArgv("exit", "9")}, {"when-exists", filepath.Join(d, "none")}},
		obj{{"ensure-dir", filepath.Join(d, "made")}, {"when-exists", conf}},
		obj{{"wait-for", obj{{"tcp", "127.0.0.1:1"}}}, {"when-missing", conf}},
		obj{{"ensure-dir", filepath.Join(d, "never")}, {"when-exists", conf}, {"when-missing", conf}},
	}
	r := runTasks(t, d, tasks, initOpts{})
	if r.code != 0 {
		t.Fatal(r.p.log())
	}
	r.has(t, `^Task 1/7 run .*: ok \(exit code 0`)
	r.has(t, `^Task 2/7 run .*: skipped \(no line of \S+squid\.conf matches \^https_port \(when-file-matches\)`)
	r.has(t, `^Task 3/7 run .*: skipped \(\S+/none missing \(when-file-matches\)`)
	r.has(t, `^Task 4/7 validate .*: skipped \(\S+/none missing \(when-exists\)`)
	r.has(t, `^Task 5/7 ensure-dir .*: ok \(created`)
	r.has(t, `^Task 6/7 wait-for tcp 127\.0\.0\.1:1: skipped \(\S+squid\.conf exists`)
	r.has(t, `^Task 7/7 ensure-dir .*: skipped \(\S+squid\.conf exists`)
}

func TestWaitFor(t *testing.T) {
	d := t.TempDir()
	t.Run("tcp", func(t *testing.T) {
		port := freePort(t)
		go func() {
			time.Sleep(600 * time.Millisecond)
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				time.Sleep(5 * time.Second)
				ln.Close()
			}
		}()
		t0 := time.Now()
		r := runTasks(t, d, []any{obj{{"wait-for", obj{{"tcp", "127.0.0.1:" + strconv.Itoa(port)}, {"timeout", "10s"}}}}}, initOpts{})
		if r.code != 0 || time.Since(t0) < 500*time.Millisecond {
			t.Fatal(r.p.log())
		}
		r.has(t, `wait-for tcp 127\.0\.0\.1:\d+: ok \(tcp 127\.0\.0\.1:\d+: connected after \d+ attempt`)
	})
	t.Run("http", func(t *testing.T) {
		ln, port := listenAny(t)
		defer ln.Close()
		n := 0
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				n++
				buf := make([]byte, 1024)
				c.Read(buf)
				if n < 3 {
					c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\n\r\n"))
				} else {
					c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
				}
				c.Close()
			}
		}()
		r := runTasks(t, d, []any{obj{{"wait-for", obj{{"http", "http://127.0.0.1:" + strconv.Itoa(port) + "/ready"}}}, {"timeout", "10s"}}}, initOpts{})
		if r.code != 0 {
			t.Fatal(r.p.log())
		}
		r.has(t, `: 200 after 3 attempt\(s\)`)
	})
	t.Run("unreachable", func(t *testing.T) {
		port := freePort(t)
		t0 := time.Now()
		r := runTasks(t, d, []any{obj{{"wait-for", obj{{"tcp", "127.0.0.1:" + strconv.Itoa(port)}, {"timeout", "700ms"}}}}}, initOpts{})
		took := time.Since(t0)
		if r.code != 1 || took < 650*time.Millisecond || took > 5*time.Second || r.mainRan {
			t.Fatalf("%d after %v", r.code, took)
		}
		r.has(t, `failed: not reachable within 700 ms \(\d+ attempts; last: tcp 127\.0\.0\.1:\d+: ECONNREFUSED\)$`)
	})
}

func TestPemBlocks(t *testing.T) {
	in := "junk\r\n-----BEGIN CERTIFICATE-----\r\nQUJD\r\n-----END CERTIFICATE-----\r\n-----BEGIN X-----\nQUJD\n-----END Y-----\n-----BEGIN EMPTY-----\n\n-----END EMPTY-----\n-----BEGIN PRIVATE KEY-----\nQUJD\nREVG\n-----END PRIVATE KEY-----"
	b := pemBlocks(in)
	if len(b) != 2 || b[0].label != "CERTIFICATE" || b[0].text != "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----" || string(b[0].der) != "ABC" ||
		b[1].label != "PRIVATE KEY" || string(b[1].der) != "ABCDEF" {
		t.Fatalf("%+v", b)
	}
}
