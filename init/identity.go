package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Who the init runs as: an arbitrary UID (OpenShift's, e.g. 1234567 with GID 0) has no entry in
// /etc/passwd and often no writable HOME, which breaks programs that write there; the init
// points HOME at a writable directory before anything starts.

// writableDir: is p a directory the process may create files in?
func writableDir(p string) bool {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return false
	}
	return syscall.Access(p, 2|1 /* W_OK|X_OK */) == nil
}

// fixHome sets HOME to /tmp, /var/tmp or /dev/shm (the first writable) when it is unset or not
// writable, and says so.
func fixHome(log *Logger, uid int) {
	home, set := os.LookupEnv("HOME")
	if set && home != "" && writableDir(home) {
		return
	}
	for _, c := range []string{"/tmp", "/var/tmp", "/dev/shm"} {
		if writableDir(c) {
			if set && home != "" {
				log.Info(sprintf("HOME %s is not writable for UID %d; using HOME=%s", home, uid, c))
			} else {
				log.Info(sprintf("HOME is not set for UID %d; using HOME=%s", uid, c))
			}
			os.Setenv("HOME", c)
			return
		}
	}
	shown := home
	if !set {
		shown = "(unset)"
	}
	log.Warn(sprintf("HOME %s is not writable for UID %d and no writable fallback exists", shown, uid))
}

// userName is the name /etc/passwd gives uid, "" when none.
func userName(uid int) string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[2] != "" {
			if n, err := strconv.Atoi(f[2]); err == nil && n == uid {
				return f[0]
			}
		}
	}
	return ""
}
