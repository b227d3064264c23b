// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} expressions are what is tested
/**
 * ${NAME} expansion and the `listening` check kind in the init schema: what the builder accepts
 * and refuses (with the field) and what the init's environment makes of it. The contract
 * fixtures compare the same with the native init (whose tests also show that a command line is
 * taken as it is).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  expandInitConfig,
  type InitConfig,
  InitConfigError,
  parseInitConfig,
  toInitJson,
} from "../../../src/init/config.ts";
import { expandPieces, parseTemplate, withDefaults } from "../../../src/init/expand.ts";

const S = "/etc/shellfree/init.json";

function refused(doc: unknown): { field: string; message: string } {
  try {
    parseInitConfig(doc, S);
  } catch (e) {
    assert.ok(e instanceof InitConfigError, String(e));
    assert.ok(!e.message.includes("\n"));
    return { field: e.field, message: e.message };
  }
  assert.fail(`accepted: ${JSON.stringify(doc)}`);
}

function expanded(doc: unknown, env: Record<string, string>): InitConfig {
  return expandInitConfig(parseInitConfig(doc, S), env, S);
}

function expandRefused(doc: unknown, env: Record<string, string>): { field: string; message: string } {
  const cfg = parseInitConfig(doc, S);
  try {
    expandInitConfig(cfg, env, S);
  } catch (e) {
    assert.ok(e instanceof InitConfigError, String(e));
    return { field: e.field, message: e.message };
  }
  assert.fail(`expanded: ${JSON.stringify(doc)}`);
}

describe("templates", () => {
  test("${NAME}, ${NAME:-default}, $$; a default applies when unset or empty", () => {
    const env: Record<string, string> = { A: "a", E: "" };
    const x = (s: string) => expandPieces(parseTemplate(s), (n) => env[n]);
    assert.equal(x("${A}/${E}/${N:-d}/${E:-e}/${A:-z}"), "a//d/e/a");
    assert.equal(x("a$$b$${A}${N:-$$}"), "a$b${A}$");
    assert.equal(x("${N:-x:-y}${N:-{}"), "x:-y{");
    assert.throws(() => x("${N}"), /environment variable N is not set and \$\{N\} has no default/);
    assert.deepEqual(withDefaults(parseTemplate("${A:-/a}${B}/c")), {
      known: "/a",
      complete: false,
      shown: "/a${B}/c",
    });
  });
  test("no other shell syntax: each malformed form is refused", () => {
    for (const [s, why] of [
      ["$HOME", /a "\$" must start/],
      ["x$", /a "\$" must start/],
      ["$(id)", /a "\$" must start/],
      ["${", /has no closing/],
      ["${A:-b", /has no closing/],
      ["${}", /bad variable name ""/],
      ["${9}", /bad variable name "9"/],
      ["${A:=b}", /only \$\{NAME\} and \$\{NAME:-default\}/],
      ["${A:+b}", /only/],
      ["${#A}", /only/],
      ["${A:-${B}}", /a default cannot contain/],
      ["${A:-$b}", /a "\$" must start/],
    ] as const)
      assert.throws(() => parseTemplate(s), why, s);
  });
});

describe("expansion in the schema", () => {
  const squid = {
    main: ["/usr/sbin/squid", "-N", "-f", "${SQUID_CONFIG:-/etc/squid/squid.conf}"],
    tasks: [
      {
        run: ["/usr/lib/squid/security_file_certgen", "-c", "-s", "/var/lib/squid/ssl_db"],
        "when-file-matches": { path: "${SQUID_CONFIG:-/etc/squid/squid.conf}", regex: "ssl-bump" },
      },
    ],
    health: { ready: { listening: "3128" } },
  };
  test("the Squid example: the default, or SQUID_CONFIG; init.json keeps the expressions", () => {
    const cfg = parseInitConfig(squid, S);
    assert.match(toInitJson(cfg), /"\$\{SQUID_CONFIG:-\/etc\/squid\/squid\.conf\}"/);
    const d = expandInitConfig(cfg, {}, S);
    assert.deepEqual(d.main, ["/usr/sbin/squid", "-N", "-f", "/etc/squid/squid.conf"]);
    assert.equal(d.tasks[0].whenFileMatches?.path, "/etc/squid/squid.conf");
    const e = expandInitConfig(cfg, { SQUID_CONFIG: "/etc/squid/bump.conf" }, S);
    assert.equal(e.main[3], "/etc/squid/bump.conf");
    assert.equal(e.tasks[0].whenFileMatches?.path, "/etc/squid/bump.conf");
    assert.deepEqual(cfg.main[3], "${SQUID_CONFIG:-/etc/squid/squid.conf}", "input not changed");
  });
  test("absolute paths: / or ${NAME:-/abs} or ${NAME} at build time; checked again after expansion", () => {
    for (const p of ["/run/x", "${RUN:-/run}/x", "${RUN}/x", "${A:-}${RUN}/x", "${A:-}/x"])
      assert.doesNotThrow(() => parseInitConfig({ main: ["/a"], "pid-file": p }, S), p);
    assert.deepEqual(refused({ main: ["/a"], "pid-file": "${RUN:-run}/x" }), {
      field: "pid-file",
      message: `${S}: pid-file: must be an absolute path, got "run/x" (from "\${RUN:-run}/x" with RUN unset)`,
    });
    assert.equal(refused({ main: ["/a"], tasks: [{ "ensure-dir": "x/${D}" }] }).field, "tasks[0].ensure-dir");
    assert.deepEqual(expandRefused({ main: ["/a"], "pid-file": "${RUN}/x" }, { RUN: "run" }), {
      field: "pid-file",
      message: `${S}: pid-file: must be an absolute path, got "run/x" (from "\${RUN}/x" with RUN="run")`,
    });
    assert.equal(expanded({ main: ["/a"], "pid-file": "${RUN}/x" }, { RUN: "/r" }).pidFile, "/r/x");
  });
  test("malformed expressions are refused at build time naming the field", () => {
    assert.equal(refused({ main: ["/a", "${"] }).field, "main[1]");
    assert.equal(
      refused({ main: ["/a"], tasks: [{ validate: ["/v", "${1X}"] }] }).field,
      "tasks[0].validate[1]",
    );
    assert.equal(
      refused({ main: ["/a"], tasks: [{ run: ["/x"], "when-missing": "/a/${B" }] }).field,
      "tasks[0].when-missing",
    );
    assert.equal(
      refused({ main: ["/a"], health: { ready: { exec: ["/x", "$Y"] } } }).field,
      "health.ready.exec[1]",
    );
    assert.match(
      refused({ main: ["/a", "cost: 5$"] }).message,
      /main\[1\]: a "\$" must start .*, got "cost: 5\$"$/,
    );
  });
  test("an unset ${NAME} stops the init with one line naming the variable and the field", () => {
    assert.deepEqual(expandRefused({ main: ["/a", "-f", "${CONF}"] }, {}), {
      field: "main[2]",
      message: `${S}: main[2]: environment variable CONF is not set and \${CONF} has no default (write \${CONF:-default})`,
    });
    assert.deepEqual(expanded({ main: ["/a", "<${CONF}>"] }, { CONF: "" }).main, ["/a", "<>"]);
  });
  test("targets: addresses are checked with the defaults, and after expansion", () => {
    const c = expanded(
      {
        main: ["/a"],
        tasks: [{ "wait-for": { tcp: "${DB:-db}:${DB_PORT:-5432}" } }],
        health: { checks: { s: { listening: "${PORT}" }, h: { http: "http://127.0.0.1:${PORT}/ready" } } },
      },
      { PORT: "8081" },
    );
    assert.equal(c.tasks[0].kind === "wait-for" && c.tasks[0].tcp, "db:5432");
    assert.deepEqual(c.health?.checks?.s, {
      listening: "8081",
      level: "ready",
      period: "10s",
      timeout: "3s",
      threshold: 3,
    });
    assert.equal(
      refused({ main: ["/a"], tasks: [{ "wait-for": { tcp: "${DB:-db}" } }] }).field,
      "tasks[0].wait-for.tcp",
    );
    assert.match(
      expandRefused({ main: ["/a"], health: { ready: { http: "${U}" } } }, { U: "https://x/" }).message,
      /health\.ready\.http: https is not supported .*, got "https:\/\/x\/" \(from "\$\{U\}" with U="https:\/\/x\/"\)$/,
    );
  });
  test("main-name, regexes, durations and the other fields are not expanded", () => {
    assert.equal(refused({ main: ["/a"], "main-name": "${N}" }).field, "main-name");
    const c = parseInitConfig(
      { main: ["/a"], tasks: [{ run: ["/x"], "when-file-matches": { path: "/f", regex: "^a$" } }] },
      S,
    );
    assert.equal(expandInitConfig(c, {}, S).tasks[0].whenFileMatches?.regex, "^a$");
  });
});

describe("listening checks in the schema", () => {
  test('"PORT", a number, "ADDRESS:PORT" (IPv4 or [IPv6]); in ready and in checks', () => {
    for (const l of ["3128", 3128, "127.0.0.1:3128", "[::1]:3128", "[::]:1", "0.0.0.0:65535"]) {
      const c = parseInitConfig({ main: ["/a"], health: { ready: { listening: l } } }, S);
      assert.deepEqual(c.health?.ready, { listening: String(l) });
      assert.match(toInitJson(c), new RegExp(`"listening": "${String(l).replace(/[[\].]/g, "\\$&")}"`));
    }
    const k = parseInitConfig(
      { main: ["/a"], health: { checks: { p: { listening: "3128", period: "1s" } } } },
      S,
    );
    assert.deepEqual(k.health?.checks?.p, {
      listening: "3128",
      level: "ready",
      period: "1s",
      timeout: "1s",
      threshold: 3,
    });
  });
  test("names, ports out of range, malformed addresses and two kinds are refused", () => {
    for (const l of [
      "localhost:3128",
      "*:80",
      "0",
      0,
      65536,
      80.5,
      "[::1]",
      "::1:80",
      "127.1:80",
      "[1.2.3.4]:80",
      "",
    ])
      assert.equal(
        refused({ main: ["/a"], health: { ready: { listening: l } } }).field,
        "health.ready.listening",
        String(l),
      );
    assert.match(
      refused({ main: ["/a"], health: { ready: { listening: "80", tcp: "a:80" } } }).message,
      /health\.ready: needs exactly one of tcp, http, exec, listening$/,
    );
  });
});
