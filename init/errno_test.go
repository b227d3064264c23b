package main

import (
	"net"
	"os"
	"syscall"
	"testing"
)

func TestErrCodes(t *testing.T) {
	_, err := os.Open("/nonexistent/x")
	if errCode(err) != "ENOENT" || errDetail(err) != "ENOENT (no such file or directory)" {
		t.Errorf("%s / %s", errCode(err), errDetail(err))
	}
	_, err = net.Dial("tcp", "127.0.0.1:1")
	if errCode(err) != "ECONNREFUSED" {
		t.Errorf("%s", errCode(err))
	}
	if errDetail(syscall.EROFS) != "EROFS (read-only file system)" || errCode(syscall.Errno(200)) == "" {
		t.Error("EROFS")
	}
	_, err = net.Dial("tcp", "no-such-host.invalid:80")
	if errCode(err) != "ENOTFOUND" {
		t.Errorf("dns: %s", errCode(err))
	}
}
