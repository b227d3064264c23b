package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// PID 1's duties. The init makes itself a child subreaper (PR_SET_CHILD_SUBREAPER; as PID 1 of
// a container it is the reaper anyway), so every orphan among the main process's descendants
// becomes its child, and it alone waits for children: on each SIGCHLD, wait4(-1, WNOHANG)
// until none is left. The exit status of a process the init started goes to whoever started
// it; an orphan's is kept for a short while (a PID file may name a daemon that already died)
// and otherwise dropped. Nothing else in the init may wait for a child (no os/exec).

// ExitStatus is how a process ended.
type ExitStatus struct {
	Code   int            // exit code; -1 when killed by a signal
	Signal syscall.Signal // 0 unless killed by a signal
	Detail string         // set when the status is not known (e.g. "process N from the PID file is gone")
}

func statusOf(ws syscall.WaitStatus) ExitStatus {
	if ws.Signaled() {
		return ExitStatus{Code: -1, Signal: ws.Signal()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}

// Describe: "exited with code 7", "killed by SIGKILL".
func (e ExitStatus) Describe() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Signal != 0 {
		return "killed by " + signalName(e.Signal)
	}
	return "exited with code " + strconv.Itoa(e.Code)
}

// ExitCode is the code the init exits with for it: the code, or 128 + the signal's number.
func (e ExitStatus) ExitCode() int {
	if e.Signal != 0 {
		return 128 + int(e.Signal)
	}
	if e.Code < 0 {
		return 1
	}
	return e.Code
}

const prSetChildSubreaper = 36

// Reaper owns waiting for children.
type Reaper struct {
	mu      sync.Mutex
	watch   map[int]chan ExitStatus
	recent  map[int]reaped // orphans reaped lately
	orphans int            // orphans reaped so far
}

type reaped struct {
	status ExitStatus
	at     time.Time
}

// NewReaper makes the process a subreaper and starts reaping on SIGCHLD (delivered on chld).
func NewReaper(chld <-chan os.Signal) (*Reaper, error) {
	r := &Reaper{watch: map[int]chan ExitStatus{}, recent: map[int]reaped{}}
	var err error
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		err = errno
	}
	go func() {
		for range chld {
			r.reap()
		}
	}()
	return r, err
}

// reap waits for every child that has ended.
func (r *Reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		st := statusOf(ws)
		if ch, ok := r.watch[pid]; ok {
			delete(r.watch, pid)
			ch <- st
			continue
		}
		r.orphans++
		now := time.Now()
		for p, x := range r.recent {
			if now.Sub(x.at) > time.Minute {
				delete(r.recent, p)
			}
		}
		if len(r.recent) < 1024 {
			r.recent[pid] = reaped{st, now}
		}
	}
}

// Orphans is how many processes the init reaped that it had not started.
func (r *Reaper) Orphans() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.orphans
}

// Start forks and execs (argv0 resolved against PATH) and registers the child, atomically with
// respect to reaping, so its exit status cannot be taken before it is registered.
func (r *Reaper) Start(argv []string, attr *syscall.ProcAttr) (int, <-chan ExitStatus, error) {
	path, err := lookPath(argv[0], attr.Env)
	if err != nil {
		return 0, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan ExitStatus, 1)
	r.watch[pid] = ch
	return pid, ch, nil
}

// Watch returns a channel that gets pid's exit status if the init reaps it (it is, or becomes,
// the init's child); ok says whether it was reaped already.
func (r *Reaper) Watch(pid int) (<-chan ExitStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan ExitStatus, 1)
	if x, ok := r.recent[pid]; ok {
		delete(r.recent, pid)
		ch <- x.status
		return ch, true
	}
	if old, ok := r.watch[pid]; ok {
		return old, false
	}
	r.watch[pid] = ch
	return ch, false
}

// Unwatch forgets pid (a process that is gone without the init reaping it).
func (r *Reaper) Unwatch(pid int) {
	r.mu.Lock()
	delete(r.watch, pid)
	r.mu.Unlock()
}

// Started lists the processes the init started that have not been reaped.
func (r *Reaper) Started() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	pids := make([]int, 0, len(r.watch))
	for p := range r.watch {
		pids = append(pids, p)
	}
	return pids
}

// lookPath finds a program as execvp does: a name with a slash is used as it is, a bare name is
// looked up in PATH (from env, else the default); not found → ENOENT.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[5:]
		}
	}
	denied := false
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() {
			continue
		}
		if syscall.Access(p, 1 /* X_OK */) == nil {
			return p, nil
		}
		denied = true
	}
	if denied {
		return "", syscall.EACCES
	}
	return "", syscall.ENOENT
}

// procAlive: is pid a live process (not a zombie)?
func procAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if os.IsNotExist(err) {
			return false
		}
		err := syscall.Kill(pid, 0)
		return err == nil || err == syscall.EPERM
	}
	st := procState(string(data))
	return st != "Z" && st != "X" && st != ""
}

// procState reads the state from /proc/PID/stat (after the command name in parentheses).
func procState(stat string) string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || i+3 > len(stat) {
		return ""
	}
	return stat[i+2 : i+3]
}

// procFields are the fields of /proc/PID/stat after the command name: state, ppid, pgrp, ...
func procFields(stat string) []string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(stat[i+1:])
}

// procPPID is the parent's PID from /proc/PID/stat.
func procPPID(stat string) int {
	f := procFields(stat)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// procGroup is the process group from /proc/PID/stat.
func procGroup(stat string) int {
	f := procFields(stat)
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(f[2])
	return n
}

// processes lists the live (not zombie) processes for which keep(stat) is true. Raw syscalls
// and one buffer: this runs at every exit and must stay quick with many processes.
func processes(keep func(stat string) bool) []int {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	var out []int
	buf := make([]byte, 1024)
	for _, name := range names {
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		fd, err := syscall.Open("/proc/"+name+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		k, err := syscall.Read(fd, buf)
		syscall.Close(fd)
		if err != nil || k <= 0 {
			continue
		}
		if s := string(buf[:k]); procState(s) != "Z" && keep(s) {
			out = append(out, n)
		}
	}
	return out
}

// children lists the live children of pid.
func children(pid int) []int {
	return processes(func(s string) bool { return procPPID(s) == pid })
}

// KillLeftovers SIGKILLs what is left of the main process (its process groups, and the
// processes the init started that are still there) and every other child the init has (orphans
// it inherited as subreaper or PID 1), and reaps them: nothing of the main process outlives the
// init. Returns how many processes it killed.
func (r *Reaper) KillLeftovers(groups []int) int {
	self := os.Getpid()
	mine := map[int]bool{}
	for _, g := range groups {
		if g > 1 && g != syscall.Getpgrp() {
			mine[g] = true
		}
	}
	for _, p := range r.Started() {
		mine[p] = true // each runs in a group of its own
	}
	killed := map[int]bool{}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		left := processes(func(s string) bool { return procPPID(s) == self || mine[procGroup(s)] })
		if len(left) == 0 {
			break
		}
		for _, p := range left {
			if p != self {
				killed[p] = true
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		time.Sleep(5 * time.Millisecond)
		r.reap()
	}
	r.reap()
	return len(killed)
}
