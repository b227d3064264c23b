package main

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// The command line:
//
//	shellfree-init [--config PATH] [--log-format text|json] [--check-config] [-- COMMAND ARGS...]
//	shellfree-init probe [/ready|/live|/health] [--port N] [--host H] [--timeout MS]
//	shellfree-init --version | --help
//
// Exit codes: 0 clean stop; the main process's code (128+n for a signal the init did not send);
// 137 when the main process had to be killed after grace; 1 bad configuration or a start-up
// failure; 2 bad arguments; 70 an internal error.

const usage = `usage: shellfree-init [--config PATH] [--log-format text|json] [--check-config] [-- COMMAND ARGS...]
       shellfree-init probe [/ready|/live|/health] [--port N] [--host H] [--timeout MS]
       shellfree-init --version | --help
Supervises COMMAND (or the config's "main") with pre-start tasks, health endpoints and graceful
shutdown, and reaps orphans and forwards signals as PID 1.
Config: --config, $SHELLFREE_INIT_CONFIG or ` + defaultConfigPath + `.`

// Args are the supervisor's arguments.
type Args struct {
	ConfigPath  string
	LogFormat   string
	Command     []string // nil when not given
	CheckConfig bool
	Version     bool
	Help        bool
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseArgs(argv []string) (Args, error) {
	var a Args
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		value := func(name string) (string, error) {
			if eq := strings.IndexByte(arg, '='); eq > 0 {
				return arg[eq+1:], nil
			}
			i++
			if i >= len(argv) {
				return "", usageError{name + " needs a value"}
			}
			return argv[i], nil
		}
		if arg == "--" {
			a.Command = append([]string{}, argv[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") {
			a.Command = append([]string{}, argv[i:]...)
			break
		}
		name, _, _ := strings.Cut(arg, "=")
		switch {
		case name == "--config" || name == "-c":
			v, err := value(name)
			if err != nil {
				return a, err
			}
			a.ConfigPath = v
		case name == "--log-format":
			v, err := value(name)
			if err != nil {
				return a, err
			}
			if v != "text" && v != "json" {
				return a, usageError{sprintf("--log-format must be text or json, got %q", v)}
			}
			a.LogFormat = v
		case arg == "--check-config":
			a.CheckConfig = true
		case arg == "--version" || arg == "-V":
			a.Version = true
		case arg == "--help" || arg == "-h":
			a.Help = true
		default:
			return a, usageError{"unknown option " + arg}
		}
	}
	if a.Command != nil && len(a.Command) == 0 {
		return a, usageError{"-- must be followed by a command"}
	}
	return a, nil
}

// loadConfig reads, checks and applies the environment: --config, else
// $SHELLFREE_INIT_CONFIG, else /etc/shellfree/init.json (which may be absent when a command is
// given). Returns the config and where it came from.
func loadConfig(a Args, getenv func(string) string, defaultPath string) (*Config, string, error) {
	explicit := a.ConfigPath
	if explicit == "" {
		explicit = getenv("SHELLFREE_INIT_CONFIG")
	}
	path := explicit
	if path == "" {
		path = defaultPath
	}
	source := path
	var raw any
	data, err := os.ReadFile(path)
	if err != nil {
		notExist := errors.Is(err, os.ErrNotExist)
		if !notExist || explicit != "" || a.Command == nil {
			problem := "cannot read config file: " + errCode(err)
			if notExist {
				problem = "config file does not exist"
				if explicit == "" {
					problem += " (give --config PATH, $SHELLFREE_INIT_CONFIG or a command after --)"
				}
			}
			return nil, "", &ConfigError{path, "", problem}
		}
		raw = &jsObject{vals: map[string]any{}}
		source = "command line"
	} else {
		raw, err = parseJSON(data)
		if err != nil {
			return nil, "", &ConfigError{path, "", "not valid JSON: " + err.Error()}
		}
	}
	if a.Command != nil {
		if o, ok := raw.(*jsObject); ok {
			cmd := make([]any, len(a.Command))
			for i, c := range a.Command {
				cmd[i] = c
			}
			n := &jsObject{keys: append([]string{}, o.keys...), vals: map[string]any{}}
			for k, v := range o.vals {
				n.vals[k] = v
			}
			if _, has := n.vals["main"]; !has {
				n.keys = append(n.keys, "main")
			}
			n.vals["main"] = cmd
			raw = n
			if data != nil {
				source = path + " + command line"
			}
		}
	}
	cfg, err := parseConfig(raw, path)
	if err != nil {
		return nil, "", err
	}
	cfg, err = applyEnvOverrides(cfg, getenv)
	if err != nil {
		return nil, "", err
	}
	return cfg, source, nil
}

// run is the whole program: returns the exit code.
func run(argv []string) int {
	if len(argv) > 0 && argv[0] == "probe" {
		return probeMain(argv[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	return supervise(argv, os.Stdout, newStderrLogger(), defaultConfigPath)
}

func supervise(argv []string, stdout io.Writer, log *Logger, defaultPath string) int {
	a, err := parseArgs(argv)
	if err != nil {
		log.Error(err.Error() + " (" + strings.SplitN(usage, "\n", 2)[0] + ")")
		return 2
	}
	if a.Help {
		_, _ = io.WriteString(stdout, usage+"\n")
		return 0
	}
	if a.Version {
		_, _ = io.WriteString(stdout, "shellfree-init "+version+"\n")
		return 0
	}
	// catch signals (before anything can start a process) while the configuration is read
	caught := make(chan *SignalChannels, 1)
	go func() { caught <- catchSignals() }()
	if a.LogFormat != "" {
		log.SetFormat(a.LogFormat)
	} else if f := os.Getenv("SHELLFREE_LOG_FORMAT"); f == "json" || f == "text" {
		log.SetFormat(f)
	}
	cfg, source, err := loadConfig(a, os.Getenv, defaultPath)
	if err != nil {
		log.Error(err.Error()) // one line, nothing started
		return 1
	}
	if a.LogFormat == "" && cfg.Log != nil {
		log.SetFormat(cfg.Log.Format)
	}
	if a.CheckConfig {
		_, _ = io.WriteString(stdout, source+": ok"+"\n")
		return 0
	}
	sigs := <-caught
	if os.Getenv("GOMEMLIMIT") == "" {
		// a soft limit: the heap is small, and a busy health endpoint (wrk, 16 connections)
		// would otherwise take the RSS past 8 MB before the collector runs
		debug.SetMemoryLimit(6 << 20)
	}
	reaper, err := NewReaper(sigs.Chld)
	if err != nil && os.Getpid() != 1 {
		log.Warn("cannot become a child subreaper (" + errCode(err) + "): orphans of the main process will not be reaped by the init")
	}
	return newSupervisor(cfg, source, log, reaper, sigs.Other).Run()
}
