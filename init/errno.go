package main

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// errnoNames: the symbolic names of the errors the init reports (as Node's error codes read,
// so log lines stay as they were: "ECONNREFUSED", "EACCES (permission denied)").
var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH", syscall.EINTR: "EINTR",
	syscall.EIO: "EIO", syscall.E2BIG: "E2BIG", syscall.ENOEXEC: "ENOEXEC", syscall.EBADF: "EBADF",
	syscall.ECHILD: "ECHILD", syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM", syscall.EACCES: "EACCES",
	syscall.EFAULT: "EFAULT", syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST", syscall.EXDEV: "EXDEV",
	syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL", syscall.ENFILE: "ENFILE",
	syscall.EMFILE: "EMFILE", syscall.ETXTBSY: "ETXTBSY", syscall.EFBIG: "EFBIG", syscall.ENOSPC: "ENOSPC",
	syscall.EROFS: "EROFS", syscall.EMLINK: "EMLINK", syscall.EPIPE: "EPIPE", syscall.ENAMETOOLONG: "ENAMETOOLONG",
	syscall.ELOOP: "ELOOP", syscall.EADDRINUSE: "EADDRINUSE", syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL",
	syscall.ENETDOWN: "ENETDOWN", syscall.ENETUNREACH: "ENETUNREACH", syscall.ECONNABORTED: "ECONNABORTED",
	syscall.ECONNRESET: "ECONNRESET", syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ECONNREFUSED: "ECONNREFUSED",
	syscall.EHOSTUNREACH: "EHOSTUNREACH", syscall.EHOSTDOWN: "EHOSTDOWN", syscall.EAFNOSUPPORT: "EAFNOSUPPORT",
	syscall.EDQUOT: "EDQUOT", syscall.ENOTSUP: "ENOTSUP",
}

// errCode names an error the way Node's `code` did: "ECONNREFUSED", "ENOENT", "ENOTFOUND" for a
// name that does not resolve, else the error's own text.
func errCode(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "ENOTFOUND"
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		if name, ok := errnoNames[en]; ok {
			return name
		}
		return en.Error()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "ETIMEDOUT"
	}
	return err.Error()
}

// errDetail: "EACCES (permission denied)", for file system errors.
func errDetail(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		if name, ok := errnoNames[en]; ok {
			return name + " (" + en.Error() + ")"
		}
		return en.Error()
	}
	return err.Error()
}
