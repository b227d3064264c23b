/**
 * The contract between the `init:` schema (src/init/config.ts, the one schema) and the native
 * init's own check of /etc/shellfree/init.json (init/config.go): cases run through the
 * TypeScript validator, written as fixtures the Go tests read (init/testdata/contract/*.json).
 * For each case the fixture holds the JSON document, the environment, and the TypeScript
 * verdict: valid with the canonical init.json the builder would write, or invalid with the field
 * and the one-line message. Go must agree on all of it.
 *
 *   node scripts/init-contract.ts           write the fixtures (and remove stale ones)
 *   node scripts/init-contract.ts --check   exit 1 when the committed fixtures are out of date
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { applyEnvOverrides, InitConfigError, parseInitConfig, toInitJson } from "../src/init/config.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

export const CONTRACT_DIR = join(import.meta.dirname, "../init/testdata/contract");
const SOURCE = "/etc/shellfree/init.json";

interface Case {
  name: string;
  /** the init.json document: a value (written with JSON.stringify) or exact text */
  doc: unknown;
  text?: string;
  env?: Record<string, string>;
}

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
    {
      run: ["/usr/lib/squid/security_file_certgen", "-c", "-s", "/var/lib/squid/ssl_db", "-M", "4MB"],
      "when-file-matches": { path: "/etc/squid/squid.conf", regex: "^\\s*http_port\\s.*\\bssl-bump\\b" },
      "when-missing": "/var/lib/squid/ssl_db",
    },
  ],
  main: ["/usr/sbin/squid", "-N", "-f", "/etc/squid/squid.conf"],
  "main-name": "squid",
  "pid-file": "/run/squid.pid",
  restart: { policy: "on-failure", "max-restarts": 3, backoff: "1s" },
  health: {
    port: 8080,
    ready: { tcp: "127.0.0.1:3128" },
    checks: {
      proxy: { level: "ready", tcp: "127.0.0.1:3128", period: "5s", timeout: "1s", threshold: 2 },
      "cache-mgr": { level: "alive", http: "http://127.0.0.1:3128/squid-internal-mgr/info", period: "30s" },
      disk: { exec: ["/usr/bin/test", "-w", "/var/spool/squid"] },
    },
  },
  shutdown: { grace: "30s", drain: "5s", signal: "SIGINT" },
  log: { format: "json" },
};

const m = (extra: Record<string, unknown>) => ({ main: ["/app"], ...extra });
const task = (t: Record<string, unknown>) => m({ tasks: [t] });
const matches = (regex: unknown) =>
  task({ run: ["/x"], "when-file-matches": { path: "/etc/x.conf", regex } });
const check = (c: unknown) => m({ health: { checks: { c } } });

const CASES: Case[] = [
  // valid
  { name: "valid-squid", doc: squid },
  { name: "valid-minimal", doc: m({}) },
  { name: "valid-empty-sections", doc: m({ health: {}, shutdown: {}, tasks: [] }) },
  { name: "valid-main-name", doc: m({ "main-name": "web_1.app-x" }) },
  { name: "valid-duration-24h", doc: m({ shutdown: { grace: "24h", drain: "23h59m59.999s" } }) },
  { name: "valid-duration-fractions", doc: m({ shutdown: { grace: "1.5s", drain: "0.0004s" } }) },
  { name: "valid-signal-lowercase", doc: m({ shutdown: { signal: "quit" } }) },
  { name: "valid-signal-winch", doc: m({ shutdown: { signal: "SIGWINCH" } }) },
  {
    name: "valid-exec-ready",
    doc: m({ health: { port: 9000, ready: { exec: ["/bin/true"], timeout: "2s" } } }),
  },
  { name: "valid-ipv6", doc: m({ health: { ready: { tcp: "[::1]:80" } } }) },
  {
    name: "valid-http-url-port-query",
    doc: m({ health: { ready: { http: "http://[::1]:8080/ready?x=1&y" } } }),
  },
  { name: "valid-http-url-bare", doc: m({ health: { ready: { http: "http://app" } } }) },
  { name: "valid-check-defaults", doc: check({ tcp: "db:5432" }) },
  { name: "valid-check-short-period", doc: check({ tcp: "db:5432", period: "500ms" }) },
  { name: "valid-check-timeout-equals-period", doc: check({ tcp: "a:1", period: "2s", timeout: "2s" }) },
  {
    name: "valid-merge-pem-when-exists-path",
    doc: task({ "merge-pem": { cert: "/a", key: "/b", out: "/c" }, "when-exists": "/a" }),
  },
  {
    name: "valid-conditions-every-kind",
    doc: m({
      tasks: [
        { validate: ["/v"], "when-exists": "/etc/a" },
        { "ensure-dir": "/d", "when-missing": "/d/ok", create: false, writable: false },
        { "wait-for": { tcp: "a:1" }, "when-file-matches": { path: "/etc/a", regex: "x" } },
      ],
    }),
  },
  { name: "valid-float-integer-port", doc: m({ health: { port: 80.0 } }) },
  {
    name: "valid-duplicate-key-last-wins",
    doc: null,
    text: '{"main":["/a"],"health":{"port":1},"health":{"port":2}}',
  },
  { name: "valid-restart-0", doc: m({ restart: { policy: "no", "max-restarts": 0 } }) },
  // env overrides
  {
    name: "env-all",
    doc: m({ health: { port: 8080, ready: { tcp: "127.0.0.1:1" } } }),
    env: {
      SHELLFREE_HEALTH_PORT: "9191",
      SHELLFREE_HEALTH_HOST: "::",
      SHELLFREE_GRACE: "10s",
      SHELLFREE_DRAIN: "1s",
      SHELLFREE_LOG_FORMAT: "json",
      SHELLFREE_RESTART: "on-failure",
    },
  },
  { name: "env-empty-ignored", doc: m({}), env: { SHELLFREE_HEALTH_PORT: "", SHELLFREE_GRACE: "" } },
  { name: "env-bad-port", doc: m({}), env: { SHELLFREE_HEALTH_PORT: "80x" } },
  { name: "env-port-too-big", doc: m({}), env: { SHELLFREE_HEALTH_PORT: "65536" } },
  { name: "env-bad-grace", doc: m({}), env: { SHELLFREE_GRACE: "10" } },
  { name: "env-grace-too-long", doc: m({}), env: { SHELLFREE_GRACE: "25h" } },
  { name: "env-bad-log-format", doc: m({}), env: { SHELLFREE_LOG_FORMAT: "xml" } },
  { name: "env-bad-restart", doc: m({}), env: { SHELLFREE_RESTART: "always" } },
  // top level
  { name: "bad-not-object", doc: [] },
  { name: "bad-null", doc: null },
  { name: "bad-unknown-key", doc: m({ helth: {} }) },
  { name: "bad-unknown-keys-order", doc: null, text: '{"zeta":1,"main":["/a"],"alpha":2}' },
  { name: "bad-unknown-key-index-first", doc: null, text: '{"zeta":1,"main":["/a"],"7":2}' },
  { name: "bad-missing-main", doc: { tasks: [] } },
  { name: "bad-main-empty", doc: { main: [] } },
  { name: "bad-main-string", doc: { main: "/usr/sbin/squid -N" } },
  { name: "bad-main-empty-program", doc: { main: [""] } },
  { name: "bad-main-number", doc: { main: ["/a", 3] } },
  { name: "bad-main-nul", doc: { main: ["/a", "x\u0000y"] } },
  { name: "bad-main-name-space", doc: m({ "main-name": "my app" }) },
  { name: "bad-main-name-long", doc: m({ "main-name": "a".repeat(65) }) },
  { name: "bad-main-name-dash-first", doc: m({ "main-name": "-x" }) },
  { name: "bad-pid-file-relative", doc: m({ "pid-file": "run/x.pid" }) },
  // health
  { name: "bad-port-string", doc: m({ health: { port: "abc" } }) },
  { name: "bad-port-numeric-string", doc: m({ health: { port: "8080" } }) },
  { name: "bad-port-range", doc: m({ health: { port: 70000 } }) },
  { name: "bad-port-fraction", doc: m({ health: { port: 80.5 } }) },
  { name: "bad-port-huge", doc: null, text: '{"main":["/a"],"health":{"port":1e400}}' },
  { name: "bad-port-long-value", doc: m({ health: { port: `x\n${"y".repeat(200)}` } }) },
  { name: "bad-health-unknown", doc: m({ health: { prot: 8080 } }) },
  { name: "bad-health-host-empty", doc: m({ health: { host: "" } }) },
  { name: "bad-ready-two-kinds", doc: m({ health: { ready: { tcp: "a:1", http: "http://a/" } } }) },
  { name: "bad-ready-no-kind", doc: m({ health: { ready: {} } }) },
  { name: "bad-ready-tcp-service-name", doc: m({ health: { ready: { tcp: "127.0.0.1:http" } } }) },
  { name: "bad-ready-tcp-port-0", doc: m({ health: { ready: { tcp: "db:0" } } }) },
  { name: "bad-ready-tcp-nbsp", doc: m({ health: { ready: { tcp: "a\u00a0b:80" } } }) },
  { name: "bad-ready-http-https", doc: m({ health: { ready: { http: "https://127.0.0.1/ready" } } }) },
  { name: "bad-ready-http-ftp", doc: m({ health: { ready: { http: "ftp://x/" } } }) },
  { name: "bad-ready-http-uppercase", doc: m({ health: { ready: { http: "HTTP://x/" } } }) },
  { name: "bad-ready-http-fragment", doc: m({ health: { ready: { http: "http://x/a#b" } } }) },
  { name: "bad-ready-http-space", doc: m({ health: { ready: { http: "http://x/a b" } } }) },
  { name: "bad-ready-http-userinfo", doc: m({ health: { ready: { http: "http://u:p@x/" } } }) },
  { name: "bad-ready-http-empty-port", doc: m({ health: { ready: { http: "http://x:/" } } }) },
  { name: "bad-ready-exec-empty", doc: m({ health: { ready: { exec: [] } } }) },
  { name: "bad-ready-timeout", doc: m({ health: { ready: { tcp: "a:1", timeout: "fast" } } }) },
  // checks
  { name: "bad-checks-list", doc: m({ health: { checks: [{ tcp: "a:1" }] } }) },
  { name: "bad-check-name", doc: m({ health: { checks: { Proxy: { tcp: "a:1" } } } }) },
  {
    name: "bad-check-name-index-first",
    doc: null,
    text: '{"main":["/a"],"health":{"checks":{"ok":{"tcp":"a:1"},"Bad":{},"9":{}}}}',
  },
  { name: "bad-check-no-kind", doc: check({ period: "1s" }) },
  { name: "bad-check-two-kinds", doc: check({ tcp: "a:1", exec: ["/x"] }) },
  { name: "bad-check-level", doc: check({ tcp: "a:1", level: "live" }) },
  { name: "bad-check-period-zero", doc: check({ tcp: "a:1", period: "0s" }) },
  { name: "bad-check-period-long", doc: check({ tcp: "a:1", period: "48h" }) },
  { name: "bad-check-timeout-over-period", doc: check({ tcp: "a:1", period: "1s", timeout: "2s" }) },
  { name: "bad-check-timeout-zero", doc: check({ tcp: "a:1", timeout: "0ms" }) },
  { name: "bad-check-threshold-0", doc: check({ tcp: "a:1", threshold: 0 }) },
  { name: "bad-check-threshold-big", doc: check({ tcp: "a:1", threshold: 1001 }) },
  { name: "bad-check-unknown", doc: check({ tcp: "a:1", action: "restart" }) },
  { name: "bad-check-http-https", doc: check({ http: "https://a/" }) },
  // durations and other sections
  { name: "bad-duration-plain-number", doc: m({ shutdown: { grace: "30" } }) },
  { name: "bad-duration-number", doc: m({ shutdown: { drain: 5 } }) },
  { name: "bad-duration-600h", doc: m({ shutdown: { grace: "600h" } }) },
  { name: "bad-duration-24h1ms", doc: m({ shutdown: { grace: "24h1ms" } }) },
  { name: "bad-duration-days", doc: m({ shutdown: { grace: "1d" } }) },
  { name: "bad-duration-space", doc: m({ shutdown: { grace: "1m 30s" } }) },
  { name: "bad-duration-exponent", doc: m({ shutdown: { grace: "1e3s" } }) },
  { name: "bad-duration-huge-number", doc: m({ shutdown: { grace: `${"9".repeat(400)}ms` } }) },
  { name: "bad-backoff", doc: m({ restart: { policy: "on-failure", backoff: "1 s" } }) },
  { name: "bad-backoff-long", doc: m({ restart: { policy: "on-failure", backoff: "25h" } }) },
  { name: "bad-restart-policy", doc: m({ restart: { policy: "always" } }) },
  { name: "bad-restart-no-policy", doc: m({ restart: {} }) },
  { name: "bad-max-restarts", doc: m({ restart: { policy: "no", "max-restarts": -1 } }) },
  { name: "bad-signal", doc: m({ shutdown: { signal: "SIGSEGV" } }) },
  { name: "bad-signal-unicode", doc: m({ shutdown: { signal: "ſigterm" } }) },
  { name: "bad-signal-number", doc: m({ shutdown: { signal: 15 } }) },
  { name: "bad-log-format", doc: m({ log: { format: "xml" } }) },
  { name: "bad-log-missing-format", doc: m({ log: {} }) },
  // tasks
  { name: "bad-tasks-object", doc: m({ tasks: {} }) },
  { name: "bad-task-string", doc: m({ tasks: ["validate"] }) },
  { name: "bad-task-no-kind", doc: task({ exec: ["x"] }) },
  { name: "bad-task-empty", doc: task({}) },
  { name: "bad-task-two-kinds", doc: task({ validate: ["x"], run: ["y"] }) },
  { name: "bad-task-unknown-key", doc: task({ validate: ["x"], timout: "1s" }) },
  { name: "bad-task-timeout", doc: task({ validate: ["x"], timeout: "soon" }) },
  { name: "bad-task-timeout-long", doc: task({ run: ["x"], timeout: "25h" }) },
  { name: "bad-ensure-dir-relative", doc: task({ "ensure-dir": "var/x" }) },
  { name: "bad-ensure-dir-writable", doc: task({ "ensure-dir": "/x", writable: "yes" }) },
  { name: "bad-merge-pem-missing-out", doc: task({ "merge-pem": { cert: "/a", key: "/b" } }) },
  {
    name: "bad-merge-pem-unknown",
    doc: task({ "merge-pem": { cert: "/a", key: "/b", out: "/c", mode: "0600" } }),
  },
  {
    name: "bad-merge-pem-when-exists-number",
    doc: task({ "merge-pem": { cert: "/a", key: "/b", out: "/c" }, "when-exists": 1 }),
  },
  { name: "bad-run-when-exists-bool", doc: task({ run: ["/x"], "when-exists": true }) },
  { name: "bad-run-when-missing-relative", doc: task({ run: ["/x"], "when-missing": "x" }) },
  { name: "bad-wait-for-none", doc: task({ "wait-for": {} }) },
  { name: "bad-wait-for-https", doc: task({ "wait-for": { http: "https://x/" } }) },
  {
    name: "bad-wait-for-timeout-twice",
    doc: task({ "wait-for": { tcp: "a:1", timeout: "1s" }, timeout: "2s" }),
  },
  { name: "bad-when-file-matches-string", doc: task({ run: ["/x"], "when-file-matches": "/etc/x" }) },
  {
    name: "bad-when-file-matches-no-regex",
    doc: task({ run: ["/x"], "when-file-matches": { path: "/etc/x" } }),
  },
  {
    name: "bad-when-file-matches-relative",
    doc: task({ run: ["/x"], "when-file-matches": { path: "x", regex: "a" } }),
  },
  {
    name: "bad-when-file-matches-unknown",
    doc: task({ run: ["/x"], "when-file-matches": { path: "/x", regex: "a", flags: "i" } }),
  },
];

// the portable regex subset: accepted and refused patterns, each a case
const GOOD_REGEXES = [
  "^\\s*http_port\\s.*\\bssl-bump\\b",
  "a|b|",
  "(a)(?:b)*?c+d??e{2}f{2,}g{2,5}?",
  "[a-z0-9_.\\-]+@[^\\]]",
  "[-a][a-][\\d-][\\w\\s\\.]",
  "\\^\\$\\\\\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/",
  "\\t\\n\\r\\f\\v\\D\\W\\S\\B",
  "(x{10}){100}",
  "é[à-ü]😀",
  "()",
];
const BAD_REGEXES = [
  "",
  "a".repeat(513),
  "(?=x)",
  "(?!x)",
  "(?<=x)",
  "(?<n>x)",
  "(?P<n>x)",
  "(?i)abc",
  "(a)\\1",
  "\\k<n>",
  "\\p{L}",
  "\\x41",
  "\\u0041",
  "\\Qa.b\\E",
  "\\Aabc\\z",
  "[[:alpha:]]",
  "[^]",
  "[]a]",
  "a{2,1}",
  "a{1001}",
  "(a{100}){11}",
  "a{,5}",
  "a{2",
  "a}",
  "a]",
  "*a",
  "a**",
  "a+*",
  "^*",
  "\\b+",
  "(ab",
  "ab)",
  "[ab",
  "[z-a]",
  "[\\d-z]",
  "[a-b-c]",
  "\\-",
  "\\a",
  "\\",
  "[\\",
  "\\0",
];
GOOD_REGEXES.forEach((r, i) => {
  CASES.push({ name: `regex-good-${String(i).padStart(2, "0")}`, doc: matches(r) });
});
BAD_REGEXES.forEach((r, i) => {
  CASES.push({ name: `regex-bad-${String(i).padStart(2, "0")}`, doc: matches(r) });
});

/** Fixture file name → content, from the TypeScript validator as it is now. */
export function contractFixtures(): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of CASES) {
    const document = c.text ?? JSON.stringify(c.doc);
    const env = c.env ?? {};
    const f: Record<string, unknown> = { name: c.name, document, env };
    try {
      const cfg = applyEnvOverrides(parseInitConfig(JSON.parse(document), SOURCE), env);
      f.valid = true;
      f.canonical = toInitJson(cfg);
    } catch (e) {
      if (!(e instanceof InitConfigError)) throw e;
      f.valid = false;
      f.field = e.field;
      f.message = e.message;
    }
    if (out.has(`${c.name}.json`)) throw new Error(`two contract cases named ${c.name}`);
    out.set(`${c.name}.json`, `${JSON.stringify(f, null, 2)}\n`);
  }
  return out;
}

/** Names of committed fixtures that differ from what the validator gives now (or are stale). */
export function outdatedFixtures(dir = CONTRACT_DIR): string[] {
  const want = contractFixtures();
  const have = new Set(readdirSync(dir).filter((n) => n.endsWith(".json")));
  const bad: string[] = [];
  for (const [name, text] of want) {
    if (!have.has(name) || readFileSync(join(dir, name), "utf8") !== text) bad.push(name);
  }
  for (const name of have) if (!want.has(name)) bad.push(name);
  return bad.sort();
}

if (import.meta.main) {
  if (process.argv.includes("--check")) {
    const bad = outdatedFixtures();
    if (bad.length > 0) {
      process.stderr.write(
        `init-contract: ${bad.length} fixture(s) out of date (${bad.slice(0, 5).join(", ")}${bad.length > 5 ? ", ..." : ""}); run node scripts/init-contract.ts\n`,
      );
      process.exit(1);
    }
    process.stdout.write("init-contract: fixtures up to date\n");
  } else {
    const want = contractFixtures();
    for (const [name, text] of want) await writeFileAtomic(join(CONTRACT_DIR, name), text);
    for (const name of readdirSync(CONTRACT_DIR))
      if (name.endsWith(".json") && !want.has(name)) rmSync(join(CONTRACT_DIR, name));
    process.stdout.write(`init-contract: wrote ${want.size} fixtures to ${CONTRACT_DIR}\n`);
  }
}
