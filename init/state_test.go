package main

import (
	"strings"
	"testing"
)

func TestTransitions(t *testing.T) {
	var b strings.Builder
	s := &Supervisor{state: Initializing, log: NewLogger(&b, "text")}
	for _, to := range []State{Validating, Preparing, Starting, Running, Starting, Running, ShuttingDown, Exited} {
		s.transition(to)
	}
	if !strings.Contains(b.String(), "State: RUNNING -> STARTING") || s.State() != Exited || !s.State().Final() {
		t.Fatal(b.String())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("EXITED -> RUNNING allowed")
		}
	}()
	s.transition(Running)
}

func TestEveryStateReachesAFinalOne(t *testing.T) {
	for from := range transitions {
		seen := map[State]bool{}
		var walk func(State) bool
		walk = func(s State) bool {
			if s.Final() {
				return true
			}
			if seen[s] {
				return false
			}
			seen[s] = true
			for _, n := range transitions[s] {
				if walk(n) {
					return true
				}
			}
			return false
		}
		if !walk(from) {
			t.Errorf("%s cannot end", from)
		}
	}
	if canMove(Running, Validating) || !canMove(Starting, Exited) {
		t.Error("canMove")
	}
}
