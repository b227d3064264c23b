package main

import (
	"errors"
	"syscall"
	"testing"
)

func TestSprintf(t *testing.T) {
	got := sprintf("%s %d %v %q %04o %% %s %d %x", "a", 7, errors.New("e"), "q\"", uint32(0o1777), Running, int64(-3))
	if want := `a 7 e "q\"" 1777 % RUNNING -3 %x`; got != want {
		t.Fatalf("%s", got)
	}
	if sprintf("%04o", 0o755) != "0755" || sprintf("%s", syscall.ENOENT) != "no such file or directory" || sprintf("%s") != "%!(MISSING)" {
		t.Fatal("octal, error, missing")
	}
	if errorf("x %d", 1).Error() != "x 1" {
		t.Fatal("errorf")
	}
}
