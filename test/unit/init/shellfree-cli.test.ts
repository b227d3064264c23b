/** `shellfree init-bundle` and `shellfree init-config`, run through bin/shellfree. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { bundleInit } from "../../../src/build/init-bundle.ts";
import { parseInitConfig, toInitJson } from "../../../src/init/config.ts";
import { NODE, tempDir } from "./helpers.ts";

const BIN = join(import.meta.dirname, "../../../bin/shellfree");
const sf = (...args: string[]) =>
  spawnSync(NODE, [BIN, ...args], { encoding: "utf8", env: { ...process.env, SHELLFREE_QUIET: "1" } });

describe("shellfree init-bundle", () => {
  test("writes the same bytes bundleInit gives, and reports them", async () => {
    using d = tempDir();
    const out = join(d.path, "sub", "init.js");
    const r = sf("init-bundle", "--out", out, "--json");
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    const bytes = await bundleInit();
    assert.deepEqual(new Uint8Array(readFileSync(out)), bytes);
    assert.equal(rep.path, out);
    assert.equal(rep.size, bytes.length);
    assert.match(rep.sha256, /^[0-9a-f]{64}$/);
    const missing = sf("init-bundle");
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /--out <file>/);
  });
});

describe("shellfree init-config", () => {
  test("a spec's init: section → canonical init.json; a bad one → one line, exit 1", () => {
    using d = tempDir();
    const spec = join(d.path, "shellfree.yaml");
    writeFileSync(
      spec,
      [
        "name: demo",
        "init:",
        "  tasks:",
        "    - { ensure-dir: /var/spool/app, writable: true }",
        '  main: ["/usr/local/bin/node", "/app/server.js"]',
        '  health: { port: 8080, ready: { http: "http://127.0.0.1:3000/ready" } }',
        "  shutdown: { grace: 10s, drain: 1s }",
        "",
      ].join("\n"),
    );
    const r = sf("init-config", spec);
    assert.equal(r.status, 0, r.stderr);
    const expected = toInitJson(
      parseInitConfig({
        tasks: [{ "ensure-dir": "/var/spool/app", writable: true }],
        main: ["/usr/local/bin/node", "/app/server.js"],
        health: { port: 8080, ready: { http: "http://127.0.0.1:3000/ready" } },
        shutdown: { grace: "10s", drain: "1s" },
      }),
    );
    assert.equal(r.stdout, expected);
    writeFileSync(spec, "init:\n  main: [/app]\n  health: { port: eighty }\n");
    const bad = sf("init-config", spec);
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, "");
    assert.equal(
      bad.stderr,
      `shellfree: ${spec}: init: health.port: must be an integer from 0 to 65535, got "eighty"\n`,
    );
  });
});
