package main

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"syscall"
	"time"
)

// Pre-start tasks, run in order before the main process: validate, ensure-dir, merge-pem, run,
// wait-for. Each may carry conditions (when-exists, when-missing, when-file-matches; all must
// hold, else it is skipped), is bounded by its timeout, and either succeeds, is skipped, or
// fails with one clear line (plus, for validate, the command's output).

// TaskError is a failed task: one line, and for commands their captured output.
type TaskError struct {
	Msg    string
	Output string
}

func (e *TaskError) Error() string { return e.Msg }

func taskErr(format string, a ...any) *TaskError { return &TaskError{Msg: sprintf(format, a...)} }

// errTaskStopped: a stop signal arrived while the task ran.
var errTaskStopped = errors.New("stopped")

// TaskOutcome is a task that did not fail.
type TaskOutcome struct {
	Skipped bool
	Detail  string
}

// TaskContext is what tasks need from the supervisor.
type TaskContext struct {
	Reaper *Reaper
	Env    []string
	UID    int
	GID    int
	Stop   <-chan struct{} // closed when the init is asked to stop
}

var defaultTaskTimeouts = map[string]time.Duration{
	"validate":   60 * time.Second,
	"ensure-dir": 10 * time.Second,
	"merge-pem":  10 * time.Second,
	"run":        5 * time.Minute,
	"wait-for":   30 * time.Second,
}

func (t *Task) timeout() time.Duration {
	if t.Timeout != nil {
		return t.Timeout.D
	}
	return defaultTaskTimeouts[t.Kind]
}

// Describe: "validate /usr/sbin/squid -k parse", "ensure-dir /var/spool/squid", ...
func (t *Task) Describe() string {
	switch t.Kind {
	case "validate", "run":
		return t.Kind + " " + strings.Join(t.Argv, " ")
	case "ensure-dir":
		return "ensure-dir " + t.Path
	case "merge-pem":
		return sprintf("merge-pem %s + %s -> %s", t.Cert, t.Key, t.Out)
	default:
		if t.TCP != "" {
			return "wait-for tcp " + t.TCP
		}
		return "wait-for http " + t.HTTP
	}
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// checkConditions: "" when every condition holds, else why the task is skipped.
func checkConditions(t *Task) (string, error) {
	if t.WhenExistsPath != "" && !exists(t.WhenExistsPath) {
		return t.WhenExistsPath + " missing (when-exists)", nil
	}
	if t.WhenMissing != "" && exists(t.WhenMissing) {
		return t.WhenMissing + " exists", nil
	}
	if m := t.WhenFileMatches; m != nil {
		ok, err := fileMatches(m)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return m.Path + " missing (when-file-matches)", nil
			}
			return "", taskErr("when-file-matches: cannot read %s: %s", m.Path, errDetail(err))
		}
		if !ok {
			return sprintf("no line of %s matches %s (when-file-matches)", m.Path, m.Regex), nil
		}
	}
	return "", nil
}

// fileMatches: does a line of the file match (lines up to 1 MiB; a trailing \r is dropped)?
func fileMatches(m *FileMatch) (bool, error) {
	f, err := os.Open(m.Path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if m.re.Match(trimCR(sc.Bytes())) {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return false, errors.New("a line is longer than 1 MiB")
		}
		return false, err
	}
	return false, nil
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// RunTask runs one task: its conditions, then the task, bounded by its timeout. Errors are a
// *TaskError or errTaskStopped.
func RunTask(t *Task, ctx *TaskContext) (TaskOutcome, error) {
	timeout := t.timeout()
	switch t.Kind {
	case "validate", "run":
		if why, err := checkConditions(t); err != nil || why != "" {
			return TaskOutcome{Skipped: true, Detail: why}, err
		}
		return runCommandTask(t, ctx, timeout)
	case "wait-for":
		if why, err := checkConditions(t); err != nil || why != "" {
			return TaskOutcome{Skipped: true, Detail: why}, err
		}
		return waitFor(t, ctx, timeout)
	}
	// file system work: bounded by the timeout too (a hung mount must not hang the start)
	type result struct {
		out TaskOutcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		if why, err := checkConditions(t); err != nil || why != "" {
			done <- result{TaskOutcome{Skipped: true, Detail: why}, err}
			return
		}
		var r result
		if t.Kind == "ensure-dir" {
			r.out, r.err = ensureDir(t, ctx)
		} else {
			r.out, r.err = mergePem(t)
		}
		done <- r
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.out, r.err
	case <-timer.C:
		return TaskOutcome{}, taskErr("timed out after %d ms", ms(timeout))
	case <-ctx.Stop:
		return TaskOutcome{}, errTaskStopped
	}
}

func runCommandTask(t *Task, ctx *TaskContext, timeout time.Duration) (TaskOutcome, error) {
	st, output, err := runCommand(t.Argv, timeout, ctx, t.Kind == "validate")
	if err != nil {
		return TaskOutcome{}, err
	}
	if st.Code != 0 || st.Signal != 0 {
		what := sprintf("exit code %d", st.Code)
		if st.Signal != 0 {
			what = "killed by " + signalName(st.Signal)
		}
		return TaskOutcome{}, &TaskError{Msg: what, Output: strings.TrimRight(output, " \t\r\n")}
	}
	if t.Kind == "validate" {
		return TaskOutcome{Detail: "passed"}, nil
	}
	return TaskOutcome{Detail: "exit code 0"}, nil
}

const maxOutput = 64 * 1024

// runCommand runs argv in a process group of its own (stdin /dev/null; stdout and stderr
// captured, or the init's), bounded by timeout and ctx.Stop.
func runCommand(argv []string, timeout time.Duration, ctx *TaskContext, capture bool) (ExitStatus, string, error) {
	select {
	case <-ctx.Stop:
		return ExitStatus{}, "", errTaskStopped
	default:
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return ExitStatus{}, "", taskErr("cannot open %s: %s", os.DevNull, errDetail(err))
	}
	defer devnull.Close()
	files := []uintptr{devnull.Fd(), 1, 2}
	var rd, wr *os.File
	if capture {
		if rd, wr, err = os.Pipe(); err != nil {
			return ExitStatus{}, "", taskErr("cannot make a pipe: %s", errDetail(err))
		}
		defer rd.Close()
		files[1], files[2] = wr.Fd(), wr.Fd()
	}
	attr := &syscall.ProcAttr{Env: ctx.Env, Files: files, Sys: &syscall.SysProcAttr{Setpgid: true}}
	pid, exit, err := ctx.Reaper.Start(argv, attr)
	if wr != nil {
		wr.Close()
	}
	if err != nil {
		return ExitStatus{}, "", taskErr("cannot execute %s: %s", argv[0], errCode(err))
	}
	var out strings.Builder
	outDone := make(chan struct{})
	if rd != nil {
		go func() {
			defer close(outDone)
			buf := make([]byte, 8192)
			truncated := false
			for {
				n, err := rd.Read(buf)
				if n > 0 {
					if out.Len() < maxOutput {
						out.Write(buf[:min(n, maxOutput-out.Len())])
					} else {
						truncated = true
					}
				}
				if err != nil {
					if truncated {
						out.WriteString("\n[output truncated]")
					}
					return
				}
			}
		}()
	} else {
		close(outDone)
	}
	why := ""
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var st ExitStatus
	stop := ctx.Stop
wait:
	for {
		select {
		case st = <-exit:
			break wait
		case <-timer.C:
			if why == "" {
				why = "timeout"
			}
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		case <-stop:
			stop = nil
			if why == "" {
				why = "stop"
			}
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			time.AfterFunc(2*time.Second, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
		}
	}
	select { // the output, unless a process left behind holds the pipe open
	case <-outDone:
	case <-time.After(500 * time.Millisecond):
		rd.Close()
		<-outDone
	}
	output := out.String()
	switch why {
	case "stop":
		return st, output, errTaskStopped
	case "timeout":
		return st, output, &TaskError{Msg: sprintf("timed out after %d ms (process group killed)", ms(timeout)), Output: strings.TrimRight(output, " \t\r\n")}
	}
	return st, output, nil
}

func ensureDir(t *Task, ctx *TaskContext) (TaskOutcome, error) {
	who := sprintf("UID %d GID %d", ctx.UID, ctx.GID)
	created := false
	st, err := os.Stat(t.Path)
	if err != nil {
		if !t.Create {
			return TaskOutcome{}, taskErr("directory %s does not exist (create: false)", t.Path)
		}
		if err := os.MkdirAll(t.Path, 0o770); err != nil {
			return TaskOutcome{}, taskErr("cannot create directory %s as %s: %s", t.Path, who, errDetail(err))
		}
		created = true
		if st, err = os.Stat(t.Path); err != nil {
			return TaskOutcome{}, taskErr("cannot create directory %s as %s: %s", t.Path, who, errDetail(err))
		}
	}
	if !st.IsDir() {
		return TaskOutcome{}, taskErr("%s exists but is not a directory", t.Path)
	}
	if t.Writable {
		if err := syscall.Access(t.Path, 2|1 /* W_OK|X_OK */); err != nil {
			sys := st.Sys().(*syscall.Stat_t)
			return TaskOutcome{}, taskErr("directory %s is not writable by %s (owner %d:%d, mode %04o): %s",
				t.Path, who, sys.Uid, sys.Gid, sys.Mode&0o7777, errDetail(err))
		}
	}
	d := "exists"
	if created {
		d = "created"
	}
	if t.Writable {
		d += ", writable"
	}
	return TaskOutcome{Detail: d}, nil
}

func waitFor(t *Task, ctx *TaskContext, timeout time.Duration) (TaskOutcome, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	attempts := 0
	for {
		select {
		case <-ctx.Stop:
			return TaskOutcome{}, errTaskStopped
		default:
		}
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		per := max(50*time.Millisecond, min(time.Second, left))
		var r CheckResult
		if t.TCP != "" {
			r = tcpCheck(t.TCP, per)
		} else {
			r = httpCheck(t.HTTP, per)
		}
		attempts++
		if r.OK {
			return TaskOutcome{Detail: sprintf("%s after %d attempt(s)", r.Detail, attempts)}, nil
		}
		last = r.Detail
		if pause := min(250*time.Millisecond, time.Until(deadline)); pause > 0 {
			select {
			case <-ctx.Stop:
				return TaskOutcome{}, errTaskStopped
			case <-time.After(pause):
			}
		}
	}
	return TaskOutcome{}, taskErr("not reachable within %d ms (%d attempts; last: %s)", ms(timeout), attempts, last)
}
