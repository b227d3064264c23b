// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the cases hold ${NAME} expressions the init expands, literally
/**
 * The contract between the `init:` schema (src/init/config.ts, the one schema) and the native
 * init's own check of /etc/shellfree/init.json (init/config.go): cases run through the
 * TypeScript validator, written as fixtures the Go tests read (init/testdata/contract/*.json).
 * For each case the fixture holds the JSON document, the environment, and the TypeScript
 * verdict: valid with the canonical init.json the builder would write, or invalid with the field
 * and the one-line message. A valid document is then expanded (`${NAME}`, src/init/expand.ts)
 * with that environment as the init's own: `expanded` is the canonical form of the result, or
 * `expandField` and `expandMessage` say why the init refuses to start. Go must agree on all of it.
 *
 *   node scripts/init-contract.ts           write the fixtures (and remove stale ones)
 *   node scripts/init-contract.ts --check   exit 1 when the committed fixtures are out of date
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  applyEnvOverrides,
  expandInitConfig,
  type InitConfig,
  InitConfigError,
  parseInitConfig,
  toInitJson,
} from "../src/init/config.ts";
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
const ready = (r: unknown) => m({ health: { ready: r } });
const listening = (l: unknown) => ready({ listening: l });

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
  // listening checks
  { name: "valid-listening-port", doc: listening("3128") },
  { name: "valid-listening-port-number", doc: listening(3128) },
  { name: "valid-listening-port-leading-zero", doc: listening("03128") },
  { name: "valid-listening-v4", doc: listening("127.0.0.1:3128") },
  { name: "valid-listening-v4-any", doc: listening("0.0.0.0:1") },
  { name: "valid-listening-v6-loopback", doc: listening("[::1]:65535") },
  { name: "valid-listening-v6-any", doc: listening("[::]:80") },
  { name: "valid-listening-v6-full", doc: listening("[1:2:3:4:5:6:7:8]:80") },
  { name: "valid-listening-v6-mapped", doc: listening("[::ffff:127.0.0.1]:80") },
  { name: "valid-listening-v6-upper", doc: listening("[FE80::A:b]:80") },
  { name: "valid-listening-v6-seven-and-ellipsis", doc: listening("[1:2:3:4:5:6:7::]:80") },
  { name: "valid-listening-v6-ellipsis-seven", doc: listening("[::2:3:4:5:6:7:8]:80") },
  { name: "valid-listening-v6-v4-tail", doc: listening("[1:2:3:4:5:6:1.2.3.4]:80") },
  {
    name: "valid-listening-check",
    doc: m({ health: { checks: { proxy: { listening: "3128", period: "2s", threshold: 1 } } } }),
  },
  { name: "valid-listening-ready-timeout", doc: ready({ listening: "[::]:8080", timeout: "100ms" }) },
  { name: "valid-tcp-v6-mapped", doc: ready({ tcp: "[::ffff:10.0.0.1]:5432" }) },
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
  { name: "bad-ready-tcp-v6-malformed", doc: ready({ tcp: "[:::]:80" }) },
  { name: "bad-ready-tcp-v6-is-v4", doc: ready({ tcp: "[1.2.3.4]:80" }) },
  { name: "bad-ready-http-v6-malformed", doc: ready({ http: "http://[1::2::3]/" }) },
  { name: "bad-ready-listening-and-tcp", doc: ready({ listening: "80", tcp: "a:80" }) },
  { name: "bad-listening-empty", doc: listening("") },
  { name: "bad-listening-bool", doc: listening(true) },
  { name: "bad-listening-port-0", doc: listening("0") },
  { name: "bad-listening-port-big", doc: listening("65536") },
  { name: "bad-listening-number-0", doc: listening(0) },
  { name: "bad-listening-number-fraction", doc: listening(80.5) },
  { name: "bad-listening-number-big", doc: listening(70000) },
  { name: "bad-listening-name", doc: listening("localhost:3128") },
  { name: "bad-listening-star", doc: listening("*:3128") },
  { name: "bad-listening-no-port", doc: listening("127.0.0.1") },
  { name: "bad-listening-empty-host", doc: listening(":80") },
  { name: "bad-listening-space", doc: listening(" 80") },
  { name: "bad-listening-v4-leading-zero", doc: listening("127.0.0.01:80") },
  { name: "bad-listening-v4-short", doc: listening("127.1:80") },
  { name: "bad-listening-v4-256", doc: listening("256.0.0.1:80") },
  { name: "bad-listening-v6-unbracketed", doc: listening("::1:80") },
  { name: "bad-listening-v6-no-port", doc: listening("[::1]") },
  { name: "bad-listening-v6-zone", doc: listening("[fe80::1%eth0]:80") },
  { name: "bad-listening-v6-nine-groups", doc: listening("[1:2:3:4:5:6:7:8:9]:80") },
  { name: "bad-listening-v6-two-ellipses", doc: listening("[1::2::3]:80") },
  { name: "bad-listening-v6-ellipsis-for-nothing", doc: listening("[1:2:3:4::5:6:7:8]:80") },
  { name: "bad-listening-v6-triple-colon", doc: listening("[:::]:80") },
  { name: "bad-listening-v6-long-group", doc: listening("[12345::]:80") },
  { name: "bad-listening-v6-leading-colon", doc: listening("[:1::]:80") },
  { name: "bad-listening-v6-trailing-colon", doc: listening("[1:2:3:4:5:6:7:8:]:80") },
  { name: "bad-listening-v6-v4-short", doc: listening("[::1.2.3]:80") },
  { name: "bad-listening-v6-v4-first", doc: listening("[1.2.3.4::]:80") },
  { name: "bad-listening-v6-v4-not-last", doc: listening("[::1.2.3.4:5]:80") },
  { name: "bad-listening-v6-v4-too-many", doc: listening("[1:2:3:4:5:6:7:1.2.3.4]:80") },
  { name: "bad-listening-v6-bare-v4", doc: listening("[1.2.3.4]:80") },
  { name: "bad-listening-check-two-kinds", doc: check({ listening: "80", exec: ["/x"] }) },
  { name: "bad-listening-unicode-digit", doc: listening("٨٠") },
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

// ${NAME} expansion: valid documents expanded with `env` as the init's environment
const SQUID_CONF = "${SQUID_CONFIG:-/etc/squid/squid.conf}";
const squidExpand = m({
  main: ["/usr/sbin/squid", "-N", "-f", SQUID_CONF],
  tasks: [
    { validate: ["/usr/sbin/squid", "-k", "parse", "-f", SQUID_CONF] },
    {
      run: ["/usr/lib/squid/security_file_certgen", "-c", "-s", "/var/lib/squid/ssl_db", "-M", "4MB"],
      "when-file-matches": { path: SQUID_CONF, regex: "^\\s*https?_port\\s.*\\sssl-bump(\\s|$)" },
      "when-missing": "/var/lib/squid/ssl_db",
    },
  ],
  health: { ready: { listening: "3128" } },
});
const everyField = m({
  main: ["${APP:-/app}", "--data", "${DATA}", "${EMPTY}", "${UNSET:-dflt}"],
  tasks: [
    { validate: ["${BIN}/check", "${DATA}/x.conf"], "when-exists": "${DATA}/x.conf" },
    { "ensure-dir": "${DATA}/cache", "when-missing": "${DATA}/cache/ok" },
    {
      "merge-pem": { cert: "${TLS:-/tls}/tls.crt", key: "${TLS:-/tls}/tls.key", out: "${DATA}/ca.pem" },
      "when-exists": true,
    },
    { run: ["${BIN}/init"], "when-file-matches": { path: "${DATA}/x.conf", regex: "^a$" } },
    { "wait-for": { tcp: "${DB_HOST:-db}:${DB_PORT:-5432}" } },
    { "wait-for": { http: "http://${API:-api}:${API_PORT}/ready" } },
  ],
  "pid-file": "${DATA}/app.pid",
  health: {
    ready: { exec: ["${BIN}/probe", "${DATA}"] },
    checks: {
      a: { tcp: "${HOST:-127.0.0.1}:${PORT}" },
      b: { http: "http://127.0.0.1:${PORT}${PATH_READY:-/ready}" },
      c: { listening: "${PORT}" },
      d: { exec: ["${BIN}/alive"], level: "alive" },
    },
  },
});
const everyEnv = {
  BIN: "/opt/app/bin",
  DATA: "/var/lib/app",
  EMPTY: "",
  API_PORT: "9000",
  PORT: "8081",
  DB_HOST: "",
};
const argvCase = (name: string, arg: string, env?: Record<string, string>): Case => ({
  name,
  doc: m({ main: ["/bin/app", arg] }),
  env,
});
CASES.push(
  { name: "expand-squid-default", doc: squidExpand },
  { name: "expand-squid-env", doc: squidExpand, env: { SQUID_CONFIG: "/etc/squid/squid-sslbump.conf" } },
  { name: "expand-squid-empty-uses-default", doc: squidExpand, env: { SQUID_CONFIG: "" } },
  { name: "expand-every-field", doc: everyField, env: everyEnv },
  {
    name: "expand-literal-dollars",
    doc: m({ main: ["/bin/app", "a$$b", "$$", "$$$$x", "${X:-$$}", "$${X}"] }),
  },
  argvCase("expand-adjacent", "${A}${B}-${A}", { A: "1", B: "2" }),
  argvCase("expand-names", "${_}${_1}${a_B9}", { _: "u", _1: "v", a_B9: "w" }),
  argvCase("expand-default-odd-text", "${A:-x:-y}${B:-{}${C:-a b\tc}", {}),
  argvCase("expand-empty-default", "<${A:-}>", {}),
  argvCase("expand-set-empty-no-default", "<${A}>", { A: "" }),
  argvCase("expand-value-not-reexpanded", "${A}", { A: "${B} $$ $x" }),
  argvCase("expand-closing-brace-literal", "${A}}", { A: "a" }),
  argvCase("expand-unicode", "é${U}😀", { U: "ü😀\u0001" }),
  {
    name: "expand-env-overrides-first",
    doc: m({ main: ["/bin/app", "${SHELLFREE_HEALTH_PORT}"], health: { port: 1 } }),
    env: { SHELLFREE_HEALTH_PORT: "9191" },
  },
  {
    name: "expand-path-unknown-prefix",
    doc: m({ "pid-file": "${A:-}${RUN}/x.pid" }),
    env: { RUN: "/run" },
  },
  // refused at start (valid for the builder)
  argvCase("expand-unset", "${SQUID_CONFIG}"),
  argvCase("expand-unset-second", "${A}/${B}", { A: "/x" }),
  { name: "expand-unset-main0", doc: { main: ["${APP}"] } },
  { name: "expand-main0-empty", doc: { main: ["${APP}"] }, env: { APP: "" } },
  { name: "expand-relative-pid-file", doc: m({ "pid-file": "${RUN}/x.pid" }), env: { RUN: "run" } },
  {
    name: "expand-relative-several-vars",
    doc: m({ "pid-file": "${A}${B:-/y}/${C}" }),
    env: { A: "rel", C: "x".repeat(80) },
  },
  { name: "expand-empty-path", doc: task({ "ensure-dir": "${D}" }), env: { D: "" } },
  {
    name: "expand-relative-merge-pem-out",
    doc: task({ "merge-pem": { cert: "/c", key: "/k", out: "${OUT}" } }),
    env: { OUT: "ca.pem" },
  },
  {
    name: "expand-relative-when-file-matches",
    doc: task({ run: ["/x"], "when-file-matches": { path: "${CONF}", regex: "a" } }),
    env: { CONF: "squid.conf" },
  },
  {
    name: "expand-relative-when-missing",
    doc: task({ run: ["/x"], "when-missing": "${M}" }),
    env: { M: "." },
  },
  { name: "expand-bad-tcp", doc: task({ "wait-for": { tcp: "${DB}" } }), env: { DB: "db" } },
  { name: "expand-bad-http", doc: ready({ http: "${URL}" }), env: { URL: "https://x/" } },
  { name: "expand-bad-listening", doc: listening("${PORT}"), env: { PORT: "localhost:80" } },
  { name: "expand-unset-in-check", doc: check({ exec: ["/x", "${NOPE}"] }) },
  {
    name: "expand-first-problem-wins",
    doc: m({ main: ["/a", "${A}"], "pid-file": "${B}", tasks: [{ run: ["${C}"] }] }),
  },
  {
    name: "expand-long-value-in-message",
    doc: m({ "pid-file": "${P}" }),
    env: { P: `run/${"é".repeat(100)}` },
  },
  // refused by the builder
  argvCase("bad-expand-bare-dollar-name", "$HOME"),
  argvCase("bad-expand-bare-dollar-end", "abc$"),
  argvCase("bad-expand-command-substitution", "$(hostname)"),
  argvCase("bad-expand-positional", "$1"),
  argvCase("bad-expand-open", "${"),
  argvCase("bad-expand-unterminated", "${X"),
  argvCase("bad-expand-unterminated-default", "${X:-abc"),
  argvCase("bad-expand-empty-name", "${}"),
  argvCase("bad-expand-digit-name", "${1X}"),
  argvCase("bad-expand-assign", "${X:=1}"),
  argvCase("bad-expand-dash", "${X-1}"),
  argvCase("bad-expand-plus", "${X:+1}"),
  argvCase("bad-expand-length", "${#X}"),
  argvCase("bad-expand-space", "${X Y}"),
  argvCase("bad-expand-unicode-name", "${Ä}"),
  argvCase("bad-expand-nested", "${X:-${Y}}"),
  argvCase("bad-expand-default-bare-dollar", "${X:-a$b}"),
  argvCase("bad-expand-default-lone-dollar", "${X:-$}"),
  argvCase("bad-expand-second-of-two", "${A}$B"),
  { name: "bad-expand-main0", doc: { main: ["$APP"] } },
  { name: "bad-expand-main0-empty-default", doc: { main: ["${APP:-}"] } },
  { name: "bad-expand-validate", doc: task({ validate: ["/x", "-f", "${CONF"] }) },
  { name: "bad-expand-ready-exec", doc: ready({ exec: ["/x", "$Y"] }) },
  { name: "bad-expand-when-missing", doc: task({ run: ["/x"], "when-missing": "${M:-/a}$" }) },
  { name: "bad-expand-path-default-relative", doc: m({ "pid-file": "${RUN:-run}/x.pid" }) },
  { name: "bad-expand-path-text-before-var", doc: m({ "pid-file": "run/${X}" }) },
  { name: "bad-expand-path-prefix-then-unknown", doc: task({ "ensure-dir": "${A:-}rel${B}" }) },
  { name: "bad-expand-path-empty-default", doc: task({ "ensure-dir": "${D:-}" }) },
  { name: "bad-expand-merge-pem-key", doc: task({ "merge-pem": { cert: "/c", key: "${K:-k}", out: "/o" } }) },
  {
    name: "bad-expand-when-file-matches",
    doc: task({ run: ["/x"], "when-file-matches": { path: "${C:-squid.conf}", regex: "a" } }),
  },
  { name: "bad-expand-tcp-default", doc: task({ "wait-for": { tcp: "${DB:-db}" } }) },
  { name: "bad-expand-http-default", doc: check({ http: "${U:-https://x/}" }) },
  { name: "bad-expand-listening-default", doc: listening("${P:-0}") },
  { name: "bad-expand-listening-syntax", doc: listening("${P") },
  { name: "bad-expand-main-name-not-expanded", doc: m({ "main-name": "${NAME}" }) },
  { name: "bad-expand-regex-not-expanded", doc: matches("${X}") },
);

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
    let cfg: InitConfig | undefined;
    try {
      cfg = applyEnvOverrides(parseInitConfig(JSON.parse(document), SOURCE), env);
      f.valid = true;
      f.canonical = toInitJson(cfg);
    } catch (e) {
      if (!(e instanceof InitConfigError)) throw e;
      f.valid = false;
      f.field = e.field;
      f.message = e.message;
    }
    if (cfg !== undefined) {
      try {
        f.expanded = toInitJson(expandInitConfig(cfg, env, SOURCE));
      } catch (e) {
        if (!(e instanceof InitConfigError)) throw e;
        f.expandField = e.field;
        f.expandMessage = e.message;
      }
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
