package main

import (
	"math"
	"strings"
	"testing"
)

func TestParseJSON(t *testing.T) {
	v, err := parseJSON([]byte(` {"b":1,"a":[true,false,null,"x\u00e9\ud83d\ude00\n"],"10":{},"2":-1.5e2,"b":2} `))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*jsObject)
	if strings.Join(o.keys, ",") != "2,10,b,a" {
		t.Errorf("key order %v (array indices first, then document order)", o.keys)
	}
	if o.field("b") != 2.0 || o.field("2") != -150.0 || o.field("missing") != undefined {
		t.Errorf("values %v %v", o.field("b"), o.field("2"))
	}
	a := o.field("a").([]any)
	if a[0] != true || a[1] != false || a[2] != nil || a[3] != "xé😀\n" {
		t.Errorf("array %#v", a)
	}
	if v, _ := parseJSON([]byte(`1e400`)); !math.IsInf(v.(float64), 1) {
		t.Errorf("1e400 → %v", v)
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `"\x"`, "\"a\nb\"", `{a:1}`, `1 2`, `tru`, `"\u12"`, "\ufeff{}"} {
		if _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := parseJSON([]byte(strings.Repeat("[", 600) + strings.Repeat("]", 600))); err == nil {
		t.Error("600 levels accepted")
	}
	if !arrayIndexOK("0") || !arrayIndexOK("4294967294") || arrayIndexOK("4294967295") || arrayIndexOK("01") || arrayIndexOK("-1") {
		t.Error("arrayIndex")
	}
}

func arrayIndexOK(k string) bool { _, ok := arrayIndex(k); return ok }
