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

// homeFix is what becomes of HOME: value is the new HOME ("" to leave it), msg the line that
// says so (a warning when no fallback is writable).
type homeFix struct {
	value, msg string
	warn       bool
}

// decideHome: HOME is unset or not writable → /tmp, /var/tmp or /dev/shm (the first writable).
func decideHome(uid int) homeFix {
	home, set := os.LookupEnv("HOME")
	if set && home != "" && writableDir(home) {
		return homeFix{}
	}
	for _, c := range []string{"/tmp", "/var/tmp", "/dev/shm"} {
		if writableDir(c) {
			if set && home != "" {
				return homeFix{value: c, msg: sprintf("HOME %s is not writable for UID %d; using HOME=%s", home, uid, c)}
			}
			return homeFix{value: c, msg: sprintf("HOME is not set for UID %d; using HOME=%s", uid, c)}
		}
	}
	shown := home
	if !set {
		shown = "(unset)"
	}
	return homeFix{msg: sprintf("HOME %s is not writable for UID %d and no writable fallback exists", shown, uid), warn: true}
}

// apply sets HOME (before the configuration is expanded: ${HOME} is the HOME the processes get).
func (h homeFix) apply() {
	if h.value != "" {
		os.Setenv("HOME", h.value)
	}
}

// report logs what apply did.
func (h homeFix) report(log *Logger) {
	switch {
	case h.msg == "":
	case h.warn:
		log.Warn(h.msg)
	default:
		log.Info(h.msg)
	}
}

// fixHome decides, applies and reports at once.
func fixHome(log *Logger, uid int) {
	h := decideHome(uid)
	h.apply()
	h.report(log)
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
