package main

import (
	"strings"
	"testing"
	"time"
)

func TestLogFormats(t *testing.T) {
	var b strings.Builder
	l := NewLogger(&b, "text")
	at := time.Date(2026, 11, 23, 18, 40, 0, 123_456_789, time.Local)
	l.now = func() time.Time { return at }
	l.Info("one\ntwo")
	l.SetFormat("json")
	l.Warn("w", F("pid", 7), F("argv", []string{"/a", "b"}), F("user", nil), F("main", obj{{"pid", 1}}))
	want := "2026-11-23 18:40:00.123 [INFO] one\n    two\n" +
		`{"time":"` + at.UTC().Format("2006-01-02T15:04:05.000Z") + `","level":"WARN","msg":"w","pid":7,"argv":["/a","b"],"user":null,"main":{"pid":1}}` + "\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	if l.Format() != "json" {
		t.Error("format")
	}
}

func TestObjWith(t *testing.T) {
	o := obj{{"a", 1}, {"b", 2}}.with("a", 3).with("c", 4)
	if string(o.json()) != `{"a":3,"b":2,"c":4}` || o.get("b") != 2 || o.get("z") != nil {
		t.Fatal(string(o.json()))
	}
}
