package main

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON, read the way JavaScript's JSON.parse reads it (a small parser of its own: encoding/json
// would add a fifth to the binary), so the init's checks walk keys in the same order as the
// TypeScript validator and name the same field first. Objects are *jsObject: keys that are
// array indices ("0", "1", ...) come first in ascending order, the others in the order of the
// document; a repeated key keeps its first place and its last value. Numbers are float64.

type jsObject struct {
	keys []string
	vals map[string]any
}

// undefinedT stands for a key that is absent (JavaScript's undefined), as opposed to null.
type undefinedT struct{}

var undefined = undefinedT{}

// field returns the value of k, or undefined.
func (o *jsObject) field(k string) any {
	if v, ok := o.vals[k]; ok {
		return v
	}
	return undefined
}

type jsonParser struct {
	s   string
	pos int
}

func (p *jsonParser) errorf(what string) error {
	if p.pos >= len(p.s) {
		return errors.New("unexpected end of JSON input")
	}
	return errors.New(what + " at position " + strconv.Itoa(p.pos))
}

func (p *jsonParser) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// parseJSON decodes one JSON document: nil, bool, float64, string, []any, *jsObject.
func parseJSON(data []byte) (any, error) {
	s := string(data)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	p := &jsonParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos < len(p.s) {
		return nil, p.errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > 512 {
		return nil, p.errorf("nested too deeply")
	}
	p.ws()
	if p.pos >= len(p.s) {
		return nil, p.errorf("")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(p.s[p.pos:], "true"):
		p.pos += 4
		return true, nil
	case strings.HasPrefix(p.s[p.pos:], "false"):
		p.pos += 5
		return false, nil
	case strings.HasPrefix(p.s[p.pos:], "null"):
		p.pos += 4
		return nil, nil
	}
	return nil, p.errorf("unexpected character " + strconv.QuoteRune(rune(p.s[p.pos])))
}

func (p *jsonParser) object(depth int) (any, error) {
	p.pos++ // {
	o := &jsObject{vals: map[string]any{}}
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		return o, nil
	}
	for {
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			return nil, p.errorf("expected a property name")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key := k.(string)
		if _, seen := o.vals[key]; !seen {
			o.keys = append(o.keys, key)
		}
		o.vals[key] = v
		p.ws()
		if p.pos >= len(p.s) {
			return nil, p.errorf("")
		}
		if p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.s[p.pos] == '}' {
			p.pos++
			sortJSKeys(o.keys)
			return o, nil
		}
		return nil, p.errorf("expected ',' or '}'")
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.pos++ // [
	a := []any{}
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.pos >= len(p.s) {
			return nil, p.errorf("")
		}
		if p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.s[p.pos] == ']' {
			p.pos++
			return a, nil
		}
		return nil, p.errorf("expected ',' or ']'")
	}
}

func (p *jsonParser) number() (any, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.s[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.s) && p.s[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("bad number")
	}
	if p.pos < len(p.s) && p.s[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("bad number")
		}
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("bad number")
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.pos], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: ±Inf or 0, as Number() gives
		return nil, p.errorf("bad number")
	}
	return f, nil
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (p *jsonParser) str() (any, error) {
	p.pos++ // "
	var b strings.Builder
	var pending []uint16 // \u escapes, joined into surrogate pairs
	flush := func() {
		if len(pending) > 0 {
			b.WriteString(string(utf16.Decode(pending)))
			pending = pending[:0]
		}
	}
	for {
		if p.pos >= len(p.s) {
			return nil, p.errorf("")
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			flush()
			return b.String(), nil
		case c < 0x20:
			return nil, p.errorf("bad control character in string literal")
		case c == '\\':
			if p.pos+1 >= len(p.s) {
				return nil, p.errorf("")
			}
			e := p.s[p.pos+1]
			p.pos += 2
			if e == 'u' {
				if p.pos+4 > len(p.s) {
					return nil, p.errorf("bad Unicode escape")
				}
				n := 0
				for i := 0; i < 4; i++ {
					h := hexVal(p.s[p.pos+i])
					if h < 0 {
						return nil, p.errorf("bad Unicode escape")
					}
					n = n*16 + h
				}
				p.pos += 4
				pending = append(pending, uint16(n))
				continue
			}
			flush()
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				p.pos -= 2
				return nil, p.errorf("bad escaped character")
			}
		default:
			flush()
			b.WriteByte(c)
			p.pos++
		}
	}
}

// arrayIndex: is k an array index in JavaScript's sense (a canonical uint32 below 2^32-1)?
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n >= math.MaxUint32 {
		return 0, false
	}
	return n, true
}

func sortJSKeys(keys []string) {
	sort.SliceStable(keys, func(i, j int) bool {
		a, ai := arrayIndex(keys[i])
		b, bi := arrayIndex(keys[j])
		if ai && bi {
			return a < b
		}
		return ai && !bi
	})
}
