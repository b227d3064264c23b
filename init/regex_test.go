package main

import (
	"regexp"
	"testing"
)

// The subset's verdicts are checked against the TypeScript ones in the contract fixtures; here:
// what an accepted pattern means (Go's RE2, a line at a time).
func TestPortableRegexMatching(t *testing.T) {
	for _, c := range []struct {
		re, line string
		want     bool
	}{
		{`^\s*http_port\s.*\bssl-bump\b`, "  http_port 3128 ssl-bump cert=x", true},
		{`^\s*http_port\s.*\bssl-bump\b`, "# http_port 3128 ssl-bump", false},
		{`^\s*http_port\s.*\bssl-bump\b`, "http_port 3128 no-ssl-bumps", false},
		{`^a{2,3}$`, "aaa", true},
		{`^a{2,3}$`, "aaaa", false},
		{`[\d-]+`, "1-2", true},
		{`^é[à-ü]$`, "éö", true},
	} {
		if p := portableRegexProblem(c.re); p != "" {
			t.Fatalf("%s: %s", c.re, p)
		}
		if got := regexp.MustCompile(c.re).MatchString(c.line); got != c.want {
			t.Errorf("%s on %q: %v", c.re, c.line, got)
		}
	}
	if p := portableRegexProblem("(?i)x"); p != "unsupported group (?i: only (...) and (?:...) are allowed at offset 0" {
		t.Errorf("inline flags: %q", p)
	}
}
