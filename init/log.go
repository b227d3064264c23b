package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Logger writes one line per event to stderr, each with one write (so lines from several
// goroutines never interleave and nothing is buffered when the process exits).
//
//	text: 2026-11-23 18:40:00.123 [INFO] message        (local time, honours TZ)
//	json: {"time":"2026-11-23T18:40:00.123Z","level":"INFO","msg":"message",...fields}
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	format string // "text" or "json"
	now    func() time.Time
}

// Field is one extra key of a JSON log line, kept in order.
type Field struct {
	Key   string
	Value any
}

// F makes a Field.
func F(key string, value any) Field { return Field{key, value} }

// NewLogger logs to w in the given format.
func NewLogger(w io.Writer, format string) *Logger {
	return &Logger{w: w, format: format, now: time.Now}
}

func newStderrLogger() *Logger { return NewLogger(os.Stderr, "text") }

// SetFormat switches between "text" and "json".
func (l *Logger) SetFormat(f string) {
	l.mu.Lock()
	l.format = f
	l.mu.Unlock()
}

// Format is the current format.
func (l *Logger) Format() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.format
}

// Timestamp formats t as the text log does: YYYY-MM-DD HH:MM:SS.mmm.
func Timestamp(t time.Time) string { return t.Format("2006-01-02 15:04:05.000") }

func (l *Logger) log(level, msg string, fields []Field) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	var b bytes.Buffer
	if l.format == "json" {
		o := obj{{"time", t.UTC().Format("2006-01-02T15:04:05.000Z")}, {"level", level}, {"msg", msg}}
		for _, f := range fields {
			o = o.with(f.Key, f.Value)
		}
		b.Write(o.json())
	} else {
		b.WriteString(Timestamp(t))
		b.WriteString(" [")
		b.WriteString(level)
		b.WriteString("] ")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\n    "))
	}
	b.WriteByte('\n')
	_, _ = l.w.Write(b.Bytes()) // stderr gone: nothing else to do
}

// Info logs at INFO.
func (l *Logger) Info(msg string, fields ...Field) { l.log("INFO", msg, fields) }

// Warn logs at WARN.
func (l *Logger) Warn(msg string, fields ...Field) { l.log("WARN", msg, fields) }

// Error logs at ERROR.
func (l *Logger) Error(msg string, fields ...Field) { l.log("ERROR", msg, fields) }

// obj is a JSON object that keeps its keys in order (log lines and health bodies read best
// with "status" first). Values: string, bool, int, int64, float64, nil, []string, obj.
type obj []Field

// with sets key (in place when present, else at the end) and returns the object.
func (o obj) with(key string, v any) obj {
	for i := range o {
		if o[i].Key == key {
			o[i].Value = v
			return o
		}
	}
	return append(o, Field{key, v})
}

func (o obj) get(key string) any {
	for _, f := range o {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

func (o obj) json() []byte {
	var b strings.Builder
	o.write(&b)
	return []byte(b.String())
}

func (o obj) write(b *strings.Builder) {
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		jsQuote(b, f.Key)
		b.WriteByte(':')
		writeJSONValue(b, f.Value)
	}
	b.WriteByte('}')
}

func writeJSONValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case obj:
		x.write(b)
	case []Field:
		obj(x).write(b)
	case string:
		jsQuote(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case []string:
		jsStringify(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONValue(b, e)
		}
		b.WriteByte(']')
	default:
		jsStringify(b, x) // nil, bool, float64
	}
}
