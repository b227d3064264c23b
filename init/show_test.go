package main

import (
	"strings"
	"testing"
)

func TestShowLikeJSONStringify(t *testing.T) {
	o := &jsObject{keys: []string{"a", "b"}, vals: map[string]any{"a": []any{1.0, "x"}, "b": nil}}
	for _, c := range []struct {
		v    any
		want string
	}{
		{undefined, "nothing"},
		{nil, "null"},
		{true, "true"},
		{"a\"b\\c\n\t\x01é\u2028", `"a\"b\\c\n\t\u0001é` + "\u2028" + `"`},
		{80.5, "80.5"},
		{1e21, "1e+21"},
		{123456789012345680000.0, "123456789012345680000"},
		{0.000001, "0.000001"},
		{1e-7, "1e-7"},
		{-2.5e-10, "-2.5e-10"},
		{70000.0, "70000"},
		{o, `{"a":[1,"x"],"b":null}`},
		{strings.Repeat("y", 100), `"` + strings.Repeat("y", 56) + "..."},
	} {
		if got := show(c.v); got != c.want {
			t.Errorf("show(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}
