package main

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// sprintf is the small part of fmt.Sprintf the init needs (%s %v %d %q %04o): fmt and the
// reflection it brings would add a tenth to the binary.
func sprintf(format string, args ...any) string {
	var b strings.Builder
	n := 0
	next := func() any {
		if n < len(args) {
			n++
			return args[n-1]
		}
		return "%!(MISSING)"
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 's', 'v', 'd':
			b.WriteString(toString(next()))
		case 'q':
			b.WriteString(strconv.Quote(toString(next())))
		case '0':
			if strings.HasPrefix(format[i:], "04o") {
				i += 2
				s := strconv.FormatInt(toInt64(next()), 8)
				b.WriteString(strings.Repeat("0", max(0, 4-len(s))) + s)
				continue
			}
			b.WriteString("%!0")
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case error:
		return x.Error()
	case interface{ String() string }:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "<nil>"
	}
	return "?"
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case uint32:
		return int64(x)
	}
	return 0
}

type formattedError struct{ msg string }

func (e *formattedError) Error() string { return e.msg }

// errorf is errors.New(sprintf(...)).
func errorf(format string, args ...any) error { return &formattedError{sprintf(format, args...)} }

func fprintf(w io.Writer, format string, args ...any) {
	_, _ = io.WriteString(w, sprintf(format, args...))
}

// lazyRegexp compiles a pattern the first time it is used: compiling every pattern at start-up
// cost milliseconds of the main process's time to ready.
func lazyRegexp(src string) func() *regexp.Regexp {
	var once sync.Once
	var re *regexp.Regexp
	return func() *regexp.Regexp {
		once.Do(func() { re = regexp.MustCompile(src) })
		return re
	}
}
