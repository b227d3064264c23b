/** Pure parts of init.js's command line: supervisor arguments, probe arguments, config loading. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseProbeArgs } from "../../../src/init/probe.ts";
import { loadConfig, parseArgs, procAlive, UsageError } from "../../../src/init/supervise.ts";
import { tempDir } from "./helpers.ts";

describe("parseArgs", () => {
  test("flags and the command after -- or the first positional", () => {
    assert.deepEqual(parseArgs([]), {});
    assert.deepEqual(parseArgs(["--config", "/c.json", "--log-format=json"]), {
      configPath: "/c.json",
      logFormat: "json",
    });
    assert.deepEqual(parseArgs(["-c", "/c.json", "--", "/app", "--port", "1"]), {
      configPath: "/c.json",
      command: ["/app", "--port", "1"],
    });
    assert.deepEqual(parseArgs(["/app", "-x"]), { command: ["/app", "-x"] });
    assert.deepEqual(parseArgs(["--check-config", "--version"]), { checkConfig: true, version: true });
  });
  test("usage errors", () => {
    assert.throws(() => parseArgs(["--config"]), UsageError);
    assert.throws(() => parseArgs(["--log-format", "xml"]), /--log-format must be text or json/);
    assert.throws(() => parseArgs(["--nope"]), /unknown option --nope/);
    assert.throws(() => parseArgs(["--"]), /-- must be followed by a command/);
  });
});

describe("loadConfig", () => {
  test("file, SHELLFREE_INIT_CONFIG, command override, env overrides", () => {
    using d = tempDir();
    const f = join(d.path, "init.json");
    writeFileSync(f, JSON.stringify({ main: ["/a"], health: { port: 9000 } }));
    assert.deepEqual(loadConfig({ configPath: f }, {}).cfg, {
      tasks: [],
      main: ["/a"],
      health: { port: 9000 },
    });
    const viaEnv = loadConfig({}, { SHELLFREE_INIT_CONFIG: f, SHELLFREE_HEALTH_PORT: "9100" });
    assert.equal(viaEnv.source, f);
    assert.equal(viaEnv.cfg.health?.port, 9100);
    const cmd = loadConfig({ configPath: f, command: ["/b", "x"] }, {});
    assert.deepEqual(cmd.cfg.main, ["/b", "x"]);
    assert.equal(cmd.source, `${f} + command line`);
  });
  test("a missing explicit file is an error; the default path may be absent when a command is given", () => {
    using d = tempDir();
    assert.throws(
      () => loadConfig({ configPath: join(d.path, "x.json") }, {}),
      /x\.json: config file does not exist$/,
    );
    // the host has no /etc/shellfree/init.json
    const r = loadConfig({ command: ["/bin/true"] }, {});
    assert.equal(r.source, "command line");
    assert.deepEqual(r.cfg.main, ["/bin/true"]);
    assert.throws(() => loadConfig({}, {}), /init\.json: config file does not exist \(give --config PATH/);
  });
});

describe("parseProbeArgs", () => {
  test("defaults, flags, env and config file", () => {
    using d = tempDir();
    assert.deepEqual(parseProbeArgs([], {}), {
      path: "/ready",
      host: "127.0.0.1",
      port: 8080,
      timeoutMs: 2000,
    });
    assert.deepEqual(parseProbeArgs(["/live", "--port", "81", "--timeout=500"], {}), {
      path: "/live",
      host: "127.0.0.1",
      port: 81,
      timeoutMs: 500,
    });
    assert.equal(parseProbeArgs(["health"], {}).path, "/health");
    assert.equal(parseProbeArgs([], { SHELLFREE_HEALTH_PORT: "9001" }).port, 9001);
    const f = join(d.path, "init.json");
    writeFileSync(f, JSON.stringify({ main: ["/a"], health: { port: 9002, host: "0.0.0.0" } }));
    assert.deepEqual(parseProbeArgs([], { SHELLFREE_INIT_CONFIG: f }), {
      path: "/ready",
      host: "127.0.0.1",
      port: 9002,
      timeoutMs: 2000,
    });
    assert.throws(() => parseProbeArgs(["--port", "x"], {}), /--port needs an integer up to 65535, got "x"/);
    assert.throws(() => parseProbeArgs(["--bogus"], {}), /unknown probe argument --bogus/);
  });
});

describe("procAlive", () => {
  test("this process is alive; a reaped child is not", async () => {
    assert.equal(procAlive(process.pid), true);
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    assert.equal(procAlive(Number(r.stdout)), false);
  });
});
