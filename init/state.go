package main

// State is where the init is in its life; STATES.md draws the machine. Every change goes
// through one function, transition, which refuses a move the diagram does not have and logs
// "State: A -> B".
type State string

const (
	Initializing State = "INITIALIZING" // reading the configuration
	Validating   State = "VALIDATING"   // validate and ensure-dir tasks
	Preparing    State = "PREPARING"    // the other tasks
	Starting     State = "STARTING"     // the main process is being started (or restarted)
	Running      State = "RUNNING"      // the main process runs; /ready may answer 200
	ShuttingDown State = "SHUTTING_DOWN"
	Exited       State = "EXITED" // final: a clean stop or a main process that ended well
	Failed       State = "ERROR"  // final: a start-up failure, or the main process failed
)

// transitions lists the moves each state allows.
var transitions = map[State][]State{
	Initializing: {Validating, ShuttingDown, Failed},
	Validating:   {Preparing, ShuttingDown, Failed},
	Preparing:    {Starting, ShuttingDown, Failed},
	Starting:     {Running, ShuttingDown, Exited, Failed},
	Running:      {Starting, ShuttingDown, Exited, Failed},
	ShuttingDown: {Exited, Failed},
	Exited:       {},
	Failed:       {},
}

// canMove: does the diagram have from → to?
func canMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

func (s State) String() string { return string(s) }

// Final: EXITED or ERROR.
func (s State) Final() bool { return s == Exited || s == Failed }

// transition moves the supervisor to `to` and logs it; a move the diagram lacks is a bug.
func (s *Supervisor) transition(to State) {
	s.mu.Lock()
	from := s.state
	if !canMove(from, to) {
		s.mu.Unlock()
		panic(sprintf("illegal state transition %s -> %s", from, to))
	}
	s.state = to
	s.mu.Unlock()
	s.log.Info(sprintf("State: %s -> %s", from, to), F("state", string(to)), F("from", string(from)))
}

// State is the current state.
func (s *Supervisor) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}
