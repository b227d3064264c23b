import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { outdatedFixtures } from "../../../scripts/init-contract.ts";
import {
  applyEnvOverrides,
  durationMs,
  type InitConfig,
  InitConfigError,
  parseInitConfig,
  toInitJson,
} from "../../../src/init/config.ts";
import { portableRegexProblem } from "../../../src/init/regex.ts";

// The design's Squid example, as the builder hands it over (YAML → JSON, kebab-case keys).
const squid = {
  tasks: [
    { validate: ["/usr/sbin/squid", "-k", "parse", "-f", "/etc/squid/squid.conf"] },
    { "ensure-dir": "/var/spool/squid", writable: true },
    {
      "merge-pem": {
        cert: "/etc/squid/tls/tls.crt",
        key: "/etc/squid/tls/tls.key",
        out: "/var/lib/squid/ca.pem",
      },
      "when-exists": true,
    },
    { run: ["/usr/sbin/squid", "-z", "-N"], "when-missing": "/var/spool/squid/00", timeout: "2m" },
    { "wait-for": { tcp: "127.0.0.1:5432", timeout: "30s" } },
    { "wait-for": { http: "http://127.0.0.1:9000/ready" }, timeout: "500ms" },
  ],
  main: ["/usr/sbin/squid", "-N", "-f", "/etc/squid/squid.conf"],
  "pid-file": "/run/squid.pid",
  restart: { policy: "on-failure", "max-restarts": 3, backoff: "1s" },
  health: { port: 8080, ready: { tcp: "127.0.0.1:3128" } },
  shutdown: { grace: "30s", drain: "5s", signal: "SIGTERM" },
  log: { format: "json" },
};

function err(input: unknown): string {
  try {
    parseInitConfig(input, "/etc/shellfree/init.json");
  } catch (e) {
    assert.ok(e instanceof InitConfigError, `expected InitConfigError, got ${e}`);
    assert.ok(!e.message.includes("\n"), `message must be one line: ${JSON.stringify(e.message)}`);
    return e.message;
  }
  assert.fail("expected parseInitConfig to throw");
}

describe("parseInitConfig", () => {
  test("accepts the spec's init: section and normalizes it", () => {
    const c = parseInitConfig(squid, "spec");
    assert.deepEqual(c.main, squid.main);
    assert.equal(c.tasks.length, 6);
    assert.deepEqual(c.tasks[0], { kind: "validate", argv: squid.tasks[0].validate });
    assert.deepEqual(c.tasks[1], {
      kind: "ensure-dir",
      path: "/var/spool/squid",
      writable: true,
      create: true,
    });
    assert.deepEqual(c.tasks[2], {
      kind: "merge-pem",
      cert: "/etc/squid/tls/tls.crt",
      key: "/etc/squid/tls/tls.key",
      out: "/var/lib/squid/ca.pem",
      whenExists: true,
    });
    assert.deepEqual(c.tasks[3], {
      kind: "run",
      argv: ["/usr/sbin/squid", "-z", "-N"],
      whenMissing: "/var/spool/squid/00",
      timeout: "2m",
    });
    assert.deepEqual(c.tasks[4], { kind: "wait-for", tcp: "127.0.0.1:5432", timeout: "30s" });
    assert.deepEqual(c.tasks[5], { kind: "wait-for", http: "http://127.0.0.1:9000/ready", timeout: "500ms" });
    assert.equal(c.pidFile, "/run/squid.pid");
    assert.deepEqual(c.restart, { policy: "on-failure", maxRestarts: 3, backoff: "1s" });
    assert.deepEqual(c.health, { port: 8080, ready: { tcp: "127.0.0.1:3128" } });
    assert.deepEqual(c.shutdown, { grace: "30s", drain: "5s", signal: "SIGTERM" });
    assert.deepEqual(c.log, { format: "json" });
  });

  test("minimal config: main only, defaults for the rest", () => {
    const c = parseInitConfig({ main: ["/app"] });
    assert.deepEqual(c, { tasks: [], main: ["/app"] });
    const h = parseInitConfig({ main: ["/app"], health: {}, shutdown: {} });
    assert.deepEqual(h.health, { port: 8080 });
    assert.deepEqual(h.shutdown, { grace: "30s", drain: "0s" });
  });

  test("unknown keys are rejected, naming the field", () => {
    assert.match(err({ main: ["/app"], helth: {} }), /^\/etc\/shellfree\/init\.json: helth: unknown key/);
    assert.match(err({ main: ["/app"], health: { prot: 8080 } }), /: health\.prot: unknown key/);
    assert.match(
      err({ main: ["/app"], tasks: [{ validate: ["x"], timout: "1s" }] }),
      /tasks\[0\]\.timout: unknown key/,
    );
    assert.match(
      err({ main: ["/app"], tasks: [{ "merge-pem": { cert: "/a", key: "/b", out: "/c", mode: "0600" } }] }),
      /tasks\[0\]\.merge-pem\.mode: unknown key/,
    );
  });

  test("missing or empty main is rejected", () => {
    assert.match(err({}), /: main: is required/);
    assert.match(err({ main: [] }), /: main: must be a non-empty list/);
    assert.match(
      err({ main: "/usr/sbin/squid -N" }),
      /: main: must be a non-empty list of strings \(argv, no shell\)/,
    );
    assert.match(err({ main: [""] }), /main\[0\]: must name a program/);
    assert.match(err({ main: ["/a", 3] }), /main\[1\]: must be a string, got 3/);
  });

  test("ports must be integers in range", () => {
    assert.match(
      err({ main: ["/a"], health: { port: "abc" } }),
      /health\.port: must be an integer from 0 to 65535, got "abc"/,
    );
    assert.match(err({ main: ["/a"], health: { port: "8080" } }), /health\.port: must be an integer/);
    assert.match(err({ main: ["/a"], health: { port: 70000 } }), /health\.port: must be an integer/);
    assert.match(err({ main: ["/a"], health: { port: 80.5 } }), /health\.port: must be an integer/);
    assert.match(
      err({ main: ["/a"], health: { ready: { tcp: "127.0.0.1:http" } } }),
      /health\.ready\.tcp: must be "host:port"/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "wait-for": { tcp: "db:0" } }] }),
      /tasks\[0\]\.wait-for\.tcp: must be "host:port" with a port from 1 to 65535/,
    );
  });

  test("durations: 500ms, 30s, 1m accepted; others rejected", () => {
    assert.equal(durationMs("500ms"), 500);
    assert.equal(durationMs("30s"), 30_000);
    assert.equal(durationMs("1m"), 60_000);
    assert.equal(durationMs("1m30s"), 90_000);
    assert.equal(durationMs("1.5s"), 1500);
    assert.equal(durationMs("2h"), 7_200_000);
    for (const bad of ["30", "s", "30 s", "-1s", "1d", "", "1m 30s", "0x10s"])
      assert.equal(durationMs(bad), null, bad);
    assert.match(
      err({ main: ["/a"], shutdown: { grace: "30" } }),
      /shutdown\.grace: must be a duration like 500ms, 30s or 1m, got "30"/,
    );
    assert.match(err({ main: ["/a"], shutdown: { drain: 5 } }), /shutdown\.drain: must be a duration/);
    assert.match(
      err({ main: ["/a"], tasks: [{ validate: ["x"], timeout: "soon" }] }),
      /tasks\[0\]\.timeout: must be a duration/,
    );
    assert.match(
      err({ main: ["/a"], restart: { policy: "on-failure", backoff: "1 s" } }),
      /restart\.backoff: must be a duration/,
    );
  });

  test("task shape errors", () => {
    assert.match(err({ main: ["/a"], tasks: {} }), /tasks: must be a list/);
    assert.match(
      err({ main: ["/a"], tasks: [{ exec: ["x"] }] }),
      /tasks\[0\]: needs one of validate, ensure-dir, merge-pem, run, wait-for/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ validate: ["x"], run: ["y"] }] }),
      /tasks\[0\]: has several task kinds/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "ensure-dir": "var/x" }] }),
      /tasks\[0\]\.ensure-dir: must be an absolute path/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "ensure-dir": "/x", writable: "yes" }] }),
      /tasks\[0\]\.writable: must be true or false/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "merge-pem": { cert: "/a", key: "/b" } }] }),
      /tasks\[0\]\.merge-pem\.out: is required/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "wait-for": {} }] }),
      /tasks\[0\]\.wait-for: needs exactly one of tcp, http/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "wait-for": { http: "ftp://x/" } }] }),
      /wait-for\.http: must be an http:\/\/ URL \(http:\/\/host\[:port\]\[\/path\]\), got "ftp:\/\/x\/"/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ "wait-for": { tcp: "a:1", timeout: "1s" }, timeout: "2s" }] }),
      /wait-for\.timeout: given twice/,
    );
  });

  test("other fields", () => {
    assert.match(
      err({ main: ["/a"], restart: { policy: "always" } }),
      /restart\.policy: must be "no" or "on-failure"/,
    );
    assert.match(err({ main: ["/a"], log: { format: "xml" } }), /log\.format: must be "text" or "json"/);
    assert.match(err({ main: ["/a"], shutdown: { signal: "SIGSEGV" } }), /shutdown\.signal: must be one of/);
    assert.equal(parseInitConfig({ main: ["/a"], shutdown: { signal: "quit" } }).shutdown?.signal, "SIGQUIT");
    assert.match(
      err({ main: ["/a"], health: { ready: { tcp: "a:1", http: "http://a/" } } }),
      /health\.ready: needs exactly one of tcp, http, exec/,
    );
    assert.match(err({ main: ["/a"], "pid-file": "run/x.pid" }), /pid-file: must be an absolute path/);
    assert.match(err([]), /^\/etc\/shellfree\/init\.json: must be a mapping/);
    assert.match(err(null), /must be a mapping, got null/);
  });

  test("long bad values are shortened; messages stay one line", () => {
    const m = err({ main: ["/a"], health: { port: `x\n${"y".repeat(200)}` } });
    assert.ok(m.length < 200, m);
  });
});

describe("additions for the native init", () => {
  test("main-name: a name for log lines", () => {
    assert.equal(parseInitConfig({ main: ["/usr/sbin/squid"], "main-name": "squid" }).mainName, "squid");
    assert.match(err({ main: ["/a"], "main-name": "my app" }), /main-name: must be 1 to 64 of /);
    assert.match(err({ main: ["/a"], "main-name": 3 }), /main-name: must be a non-empty string, got 3/);
  });

  test("durations are at most 24h (a longer timer is a typo)", () => {
    assert.equal(parseInitConfig({ main: ["/a"], shutdown: { grace: "24h" } }).shutdown?.grace, "24h");
    assert.match(
      err({ main: ["/a"], shutdown: { grace: "600h" } }),
      /shutdown\.grace: must be at most 24h, got "600h"$/,
    );
    assert.match(
      err({ main: ["/a"], shutdown: { drain: "24h1ms" } }),
      /shutdown\.drain: must be at most 24h/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ run: ["/x"], timeout: "25h" }] }),
      /tasks\[0\]\.timeout: must be at most 24h/,
    );
    assert.match(
      err({ main: ["/a"], restart: { policy: "no", backoff: "1000h" } }),
      /restart\.backoff: must be at most 24h/,
    );
    assert.throws(
      () => applyEnvOverrides(base0(), { SHELLFREE_GRACE: "48h" }),
      /SHELLFREE_GRACE: must be at most 24h/,
    );
  });

  test("http checks are http:// only (the native init has no TLS client)", () => {
    assert.match(
      err({ main: ["/a"], health: { ready: { http: "https://127.0.0.1/ready" } } }),
      /health\.ready\.http: https is not supported \(shellfree-init has no TLS client\); use http:\/\/ or tcp/,
    );
    assert.match(
      err({ main: ["/a"], health: { ready: { http: "http://a/#x" } } }),
      /must be an http:\/\/ URL/,
    );
    assert.equal(
      parseInitConfig({ main: ["/a"], health: { ready: { http: "http://[::1]:81/r?x" } } }).health?.ready &&
        "ok",
      "ok",
    );
  });

  test("health.checks: Pebble's model with defaults", () => {
    const c = parseInitConfig({
      main: ["/a"],
      health: {
        checks: {
          port: { tcp: "127.0.0.1:3128" },
          fast: { level: "alive", exec: ["/bin/true"], period: "1s", threshold: 5 },
        },
      },
    });
    assert.deepEqual(c.health?.checks, {
      port: { tcp: "127.0.0.1:3128", level: "ready", period: "10s", timeout: "3s", threshold: 3 },
      fast: { exec: ["/bin/true"], level: "alive", period: "1s", timeout: "1s", threshold: 5 },
    });
    assert.match(
      err({ main: ["/a"], health: { checks: { Port: { tcp: "a:1" } } } }),
      /health\.checks\.Port: a check name is /,
    );
    assert.match(
      err({ main: ["/a"], health: { checks: { p: { tcp: "a:1", period: "1s", timeout: "2s" } } } }),
      /health\.checks\.p\.timeout: must not be longer than the period \(1s\)/,
    );
    assert.match(
      err({ main: ["/a"], health: { checks: { p: { tcp: "a:1", period: "0s" } } } }),
      /period: must be longer than 0/,
    );
    assert.match(
      err({ main: ["/a"], health: { checks: { p: { http: "x" } } } }),
      /checks\.p\.http: must be an http:\/\/ URL/,
    );
  });

  test("task conditions on every kind: when-exists, when-missing, when-file-matches", () => {
    const c = parseInitConfig({
      main: ["/a"],
      tasks: [
        { validate: ["/v"], "when-exists": "/etc/v.conf" },
        { "ensure-dir": "/d", "when-missing": "/d/done" },
        {
          run: ["/usr/lib/squid/security_file_certgen", "-c", "-s", "/var/lib/squid/ssl_db"],
          "when-file-matches": { path: "/etc/squid/squid.conf", regex: "^\\s*http_port\\s.*\\bssl-bump\\b" },
          "when-missing": "/var/lib/squid/ssl_db",
        },
        { "merge-pem": { cert: "/c", key: "/k", out: "/o" }, "when-exists": "/c" },
      ],
    });
    assert.equal(c.tasks[0].whenExistsPath, "/etc/v.conf");
    assert.equal(c.tasks[1].whenMissing, "/d/done");
    assert.deepEqual(c.tasks[2].whenFileMatches, {
      path: "/etc/squid/squid.conf",
      regex: "^\\s*http_port\\s.*\\bssl-bump\\b",
    });
    assert.equal(c.tasks[3].kind === "merge-pem" && c.tasks[3].whenExists, false);
    assert.equal(c.tasks[3].whenExistsPath, "/c");
    assert.deepEqual(parseInitConfig(JSON.parse(toInitJson(c))), c, "round-trips");
    assert.match(
      err({ main: ["/a"], tasks: [{ run: ["/x"], "when-exists": true }] }),
      /tasks\[0\]\.when-exists: must be a non-empty string, got true/,
    );
    assert.match(
      err({ main: ["/a"], tasks: [{ run: ["/x"], "when-file-matches": { path: "/x", regex: "(?<=a)b" } }] }),
      /tasks\[0\]\.when-file-matches\.regex: must be a regular expression in shellfree's portable subset: unsupported group \(\?<: /,
    );
  });

  test("the portable regex subset refuses what only one engine reads (RE2 or JavaScript)", () => {
    for (const ok of ["^a+$", "[a-z]{2,3}\\.x", "(?:ab)|c?", "\\d\\w\\s\\b"])
      assert.equal(portableRegexProblem(ok), null, ok);
    const bad: Array<[string, RegExp]> = [
      ["(?i)abc", /unsupported group \(\?i/], // RE2 only
      ["[[:alpha:]]", /\[ inside a class/], // RE2 only (JavaScript reads another class)
      ["\\Qa.b\\E", /unsupported escape \\Q/], // RE2 only
      ["(?=a)", /unsupported group \(\?=/], // JavaScript only
      ["(a)\\1", /unsupported escape \\1/], // JavaScript only
      ["[^]", /\[\^\] is not supported/], // JavaScript only
      ["a{1001}", /repetition count above 1000/], // RE2 refuses it
      ["(a{100}){11}", /multiply to more than 1000/],
    ];
    for (const [re, why] of bad) assert.match(portableRegexProblem(re) ?? "", why, re);
  });

  test("the committed contract fixtures match this validator (node scripts/init-contract.ts writes them)", () => {
    assert.deepEqual(outdatedFixtures(), []);
  });
});

function base0(): InitConfig {
  return parseInitConfig({ main: ["/a"] });
}

describe("toInitJson", () => {
  test("round-trips through parseInitConfig and is stable", () => {
    const c = parseInitConfig(squid);
    const j = toInitJson(c);
    assert.deepEqual(parseInitConfig(JSON.parse(j)), c);
    assert.equal(toInitJson(parseInitConfig(JSON.parse(j))), j);
    assert.ok(j.endsWith("\n"));
    // kebab-case keys as in the spec
    assert.match(j, /"ensure-dir": "\/var\/spool\/squid"/);
    assert.match(j, /"when-exists": true/);
    assert.match(j, /"pid-file": "\/run\/squid\.pid"/);
    assert.match(j, /"max-restarts": 3/);
  });
  test("exec readiness check round-trips", () => {
    const c: InitConfig = parseInitConfig({
      main: ["/a"],
      health: { port: 9000, ready: { exec: ["/bin/true"], timeout: "2s" } },
    });
    assert.deepEqual(parseInitConfig(JSON.parse(toInitJson(c))), c);
  });
});

describe("applyEnvOverrides", () => {
  const base = parseInitConfig({ main: ["/a"], health: { port: 8080, ready: { tcp: "127.0.0.1:1" } } });
  test("overrides port, grace, drain, log format, restart", () => {
    const c = applyEnvOverrides(base, {
      SHELLFREE_HEALTH_PORT: "9191",
      SHELLFREE_GRACE: "10s",
      SHELLFREE_DRAIN: "1s",
      SHELLFREE_LOG_FORMAT: "json",
      SHELLFREE_RESTART: "on-failure",
    });
    assert.deepEqual(c.health, { port: 9191, ready: { tcp: "127.0.0.1:1" } });
    assert.deepEqual(c.shutdown, { grace: "10s", drain: "1s" });
    assert.deepEqual(c.log, { format: "json" });
    assert.deepEqual(c.restart, { policy: "on-failure" });
    assert.deepEqual(base.health, { port: 8080, ready: { tcp: "127.0.0.1:1" } }, "input not mutated");
  });
  test("bad values name the variable", () => {
    assert.throws(
      () => applyEnvOverrides(base, { SHELLFREE_HEALTH_PORT: "80a" }),
      /^InitConfigError: environment: SHELLFREE_HEALTH_PORT: must be an integer/,
    );
    assert.throws(
      () => applyEnvOverrides(base, { SHELLFREE_GRACE: "10" }),
      /SHELLFREE_GRACE: must be a duration/,
    );
    assert.throws(
      () => applyEnvOverrides(base, { SHELLFREE_LOG_FORMAT: "xml" }),
      /SHELLFREE_LOG_FORMAT: must be "text" or "json"/,
    );
  });
  test("empty values are ignored", () => {
    assert.deepEqual(applyEnvOverrides(base, { SHELLFREE_HEALTH_PORT: "", SHELLFREE_GRACE: "" }), base);
  });
});
