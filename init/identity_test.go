package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentity(t *testing.T) {
	if userName(0) != "root" || userName(1234567) != "" {
		t.Errorf("userName: %q %q", userName(0), userName(1234567))
	}
	d := t.TempDir()
	if !writableDir(d) || writableDir(filepath.Join(d, "missing")) {
		t.Error("writableDir")
	}
	f := filepath.Join(d, "file")
	os.WriteFile(f, nil, 0o644)
	if writableDir(f) {
		t.Error("a file is not a directory")
	}
	t.Setenv("HOME", filepath.Join(d, "missing"))
	var b strings.Builder
	fixHome(NewLogger(&b, "text"), 42)
	if os.Getenv("HOME") != "/tmp" || !strings.Contains(b.String(), "HOME "+filepath.Join(d, "missing")+" is not writable for UID 42; using HOME=/tmp") {
		t.Errorf("%s %s", os.Getenv("HOME"), b.String())
	}
	b.Reset()
	fixHome(NewLogger(&b, "text"), 42) // /tmp is fine: nothing to say
	if b.String() != "" {
		t.Error(b.String())
	}
}
