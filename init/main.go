// Command shellfree-init is the in-image supervisor of shellfree images: it runs pre-start
// tasks, the main process, health endpoints and a graceful shutdown, and does PID 1's duties
// (reaping orphans, forwarding signals). Everything is in this package, one concern a file:
// cli.go (arguments), config.go (the init.json schema), state.go (the state machine),
// supervisor.go, service.go, tasks.go, checks.go, health.go, shutdown.go, reaper.go,
// signals.go, log.go, probe.go. STATES.md draws the state machine.
package main

import "os"

// version is set at build time: -ldflags '-X main.version=...'.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}
