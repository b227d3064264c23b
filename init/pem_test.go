package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// merge-pem's key check with keys of each supported kind, made by openssl.
func TestMergePemKeyKinds(t *testing.T) {
	d := t.TempDir()
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	p := func(n string) string { return filepath.Join(d, n) }
	sh("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rsa", "-days", "1", "-keyout", p("rsa.key"), "-out", p("rsa.crt"))
	sh("rsa", "-in", p("rsa.key"), "-traditional", "-out", p("rsa1.key"))
	sh("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-subj", "/CN=ec", "-days", "1", "-keyout", p("ec.key"), "-out", p("ec.crt"))
	sh("ec", "-in", p("ec.key"), "-out", p("sec1.key"))
	sh("req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", "/CN=ed", "-days", "1", "-keyout", p("ed.key"), "-out", p("ed.crt"))
	head := func(f string) string { b, _ := os.ReadFile(p(f)); return strings.SplitN(string(b), "\n", 2)[0] }
	if head("rsa1.key") != "-----BEGIN RSA PRIVATE KEY-----" || head("sec1.key") != "-----BEGIN EC PRIVATE KEY-----" {
		t.Fatalf("openssl wrote %s and %s", head("rsa1.key"), head("sec1.key"))
	}
	for _, c := range []struct{ crt, key, want string }{
		{"rsa.crt", "rsa.key", ""},
		{"rsa.crt", "rsa1.key", ""},
		{"ec.crt", "ec.key", ""},
		{"ec.crt", "sec1.key", ""},
		{"rsa.crt", "ec.key", "does not match the certificate"},
		{"ec.crt", "rsa1.key", "does not match the certificate"},
		{"ed.crt", "ed.key", "Ed25519 keys are not supported by merge-pem"},
	} {
		out := p("out-" + c.crt + "-" + c.key)
		_, err := mergePem(&Task{Cert: p(c.crt), Key: p(c.key), Out: out})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s + %s: %v", c.crt, c.key, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s + %s: %v, want %q", c.crt, c.key, err, c.want)
		}
		if _, statErr := os.Stat(out); (statErr == nil) != (c.want == "") {
			t.Errorf("%s + %s: output written: %v", c.crt, c.key, statErr == nil)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	d := t.TempDir()
	f := filepath.Join(d, "x")
	if err := writeFileAtomic(f, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(filepath.Join(d, "missing", "x"), []byte("a"), 0o600); err == nil {
		t.Fatal("wrote into a missing directory")
	}
	ents, _ := os.ReadDir(d)
	if len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}
