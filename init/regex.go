package main

import (
	"regexp"
	"strings"
)

// The portable regular-expression subset of `when-file-matches`, the mirror of
// src/init/regex.ts (read its comment for the grammar): a pattern is accepted only when it is in
// a small grammar that RE2 and JavaScript read the same way, with the same messages, so the
// builder's check and the init's agree. The pattern is then matched with Go's regexp (RE2),
// against each line of the file; \d \w \s \b are ASCII.

const (
	regexMaxLength = 512
	maxRepeat      = 1000
	regexSyntax    = `^$\.*+?()[]{}|/`
	classEscapes   = "dDwWsS"
	controlEscapes = "tnrfv"
)

type regexProblem struct{ msg string }

type regexParser struct {
	cps []rune
	pos int
}

func (p *regexParser) fail(problem string, at int) {
	panic(regexProblem{sprintf("%s at offset %d", problem, at)})
}

// peek returns the rune k ahead, or -1 past the end.
func (p *regexParser) peek(k int) rune {
	if p.pos+k < len(p.cps) {
		return p.cps[p.pos+k]
	}
	return -1
}

func (p *regexParser) next() rune {
	r := p.peek(0)
	p.pos++
	return r
}

func (p *regexParser) alt(depth int) int {
	most := p.concat(depth)
	for p.peek(0) == '|' {
		p.pos++
		most = max(most, p.concat(depth))
	}
	return most
}

func (p *regexParser) concat(depth int) int {
	most := 1
	for {
		c := p.peek(0)
		if c == -1 || c == '|' || c == ')' {
			return most
		}
		start := p.pos
		repeatable, inner := p.atom(depth)
		product := inner
		if q, ok := p.quantifier(); ok {
			if !repeatable {
				p.fail("nothing to repeat", start)
			}
			product = inner * q
			if product > maxRepeat {
				p.fail("nested repetition counts multiply to more than 1000", start)
			}
		}
		most = max(most, product)
	}
}

func (p *regexParser) quantifier() (int, bool) {
	c := p.peek(0)
	var count int
	switch c {
	case '*', '+', '?':
		p.pos++
		count = 1
	case '{':
		at := p.pos
		p.pos++
		n, ok := p.number()
		if !ok {
			p.fail(`a literal { must be escaped as \{`, at)
		}
		m, bounded := n, true
		if p.peek(0) == ',' {
			p.pos++
			if p.peek(0) == '}' {
				bounded = false
			} else if m, ok = p.number(); !ok {
				p.fail(`a literal { must be escaped as \{`, at)
			}
		}
		if p.peek(0) != '}' {
			p.fail(`a literal { must be escaped as \{`, at)
		}
		p.pos++
		if n > maxRepeat || (bounded && m > maxRepeat) {
			p.fail("repetition count above 1000", at)
		}
		if bounded && n > m {
			p.fail("repetition {n,m} with n > m", at)
		}
		count = max(n, 1)
		if bounded {
			count = max(count, m)
		}
	default:
		return 0, false
	}
	if p.peek(0) == '?' {
		p.pos++ // lazy
	}
	switch p.peek(0) {
	case '*', '+', '?', '{':
		p.fail("nothing to repeat", p.pos)
	}
	return count, true
}

func (p *regexParser) number() (int, bool) {
	s := ""
	for c := p.peek(0); c >= '0' && c <= '9'; c = p.peek(0) {
		s += string(c)
		p.pos++
	}
	if s == "" {
		return 0, false
	}
	if len(s) > 4 {
		return maxRepeat + 1, true
	}
	n := 0
	for _, d := range s {
		n = n*10 + int(d-'0')
	}
	return n, true
}

func (p *regexParser) atom(depth int) (repeatable bool, inner int) {
	at := p.pos
	c := p.next()
	switch c {
	case '(':
		if p.peek(0) == '?' {
			if p.peek(1) == ':' {
				p.pos += 2
			} else {
				after := ""
				if r := p.peek(1); r != -1 {
					after = string(r)
				}
				p.fail("unsupported group (?"+after+": only (...) and (?:...) are allowed", at)
			}
		}
		inner := p.alt(depth + 1)
		if p.peek(0) != ')' {
			p.fail("missing )", at)
		}
		p.pos++
		return true, inner
	case ')':
		p.fail("unbalanced )", at)
	case '[':
		p.class(at)
		return true, 1
	case ']':
		p.fail(`a literal ] must be escaped as \]`, at)
	case '}':
		p.fail(`a literal } must be escaped as \}`, at)
	case '{':
		p.fail(`a literal { must be escaped as \{`, at)
	case '*', '+', '?':
		p.fail("nothing to repeat", at)
	case '^', '$':
		return false, 1
	case '\\':
		e := p.next()
		if e == -1 {
			p.fail(`trailing \`, at)
		}
		if e == 'b' || e == 'B' {
			return false, 1
		}
		if strings.ContainsRune(classEscapes, e) || strings.ContainsRune(controlEscapes, e) || strings.ContainsRune(regexSyntax, e) {
			return true, 1
		}
		p.fail(`unsupported escape \`+string(e), at)
	}
	return true, 1
}

func (p *regexParser) class(at int) {
	if p.peek(0) == '^' {
		p.pos++
	}
	if p.peek(0) == ']' {
		if p.cps[p.pos-1] == '^' {
			p.fail("[^] is not supported", at)
		}
		p.fail("empty class []", at)
	}
	first := true
	for {
		c := p.peek(0)
		if c == -1 {
			p.fail("missing ]", at)
		}
		if c == ']' {
			p.pos++
			return
		}
		itemAt := p.pos
		lo, loKind := p.classItem()
		if p.peek(0) == '-' && p.peek(1) != ']' && p.peek(1) != -1 {
			p.pos++
			hiAt := p.pos
			hi, hiKind := p.classItem()
			if loKind == itemClass || hiKind == itemClass {
				p.fail(`a - between escapes in a class must be escaped as \-`, itemAt)
			}
			if lo > hi {
				p.fail("bad range "+string(lo)+"-"+string(hi), hiAt)
			}
		} else if loKind == itemPlain && lo == '-' && !first && p.peek(0) != ']' {
			p.fail(`a - in the middle of a class must be escaped as \-`, itemAt)
		}
		first = false
	}
}

type classItemKind int

const (
	itemPlain   classItemKind = iota // a character as itself
	itemEscaped                      // an escaped character (\- \] \t ...)
	itemClass                        // a class escape (\d \w \s ...)
)

// classItem returns the character a class item stands for, and its kind.
func (p *regexParser) classItem() (rune, classItemKind) {
	at := p.pos
	c := p.next()
	if c == '[' {
		p.fail(`[ inside a class must be escaped as \[`, at)
	}
	if c != '\\' {
		return c, itemPlain
	}
	e := p.next()
	if e == -1 {
		p.fail("missing ]", at)
	}
	if strings.ContainsRune(classEscapes, e) {
		return 0, itemClass
	}
	switch e {
	case 't':
		return '\t', itemEscaped
	case 'n':
		return '\n', itemEscaped
	case 'r':
		return '\r', itemEscaped
	case 'f':
		return '\f', itemEscaped
	case 'v':
		return '\v', itemEscaped
	}
	if strings.ContainsRune(regexSyntax, e) || e == '-' {
		return e, itemEscaped
	}
	p.fail(`unsupported escape \`+string(e), at)
	return 0, itemClass
}

// portableRegexProblem says why src is not in the portable subset, or "" when it is (and Go
// compiles it).
func portableRegexProblem(src string) (problem string) {
	cps := []rune(src)
	if len(cps) == 0 {
		return "is empty"
	}
	if len(cps) > regexMaxLength {
		return sprintf("is longer than %d characters", regexMaxLength)
	}
	p := &regexParser{cps: cps}
	func() {
		defer func() {
			if r := recover(); r != nil {
				rp, ok := r.(regexProblem)
				if !ok {
					panic(r)
				}
				problem = rp.msg
			}
		}()
		p.alt(0)
		if p.pos < len(p.cps) {
			p.fail("unbalanced )", p.pos)
		}
	}()
	if problem != "" {
		return problem
	}
	if _, err := regexp.Compile(src); err != nil {
		return "not valid: " + err.Error()
	}
	return ""
}
