/** `shellfree init-config`, run through bin/shellfree (and `init-bundle`, the Node init's, is gone). */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseInitConfig, toInitJson } from "../../../src/init/index.ts";
import { shellfree } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tmp.ts";

const env = { SHELLFREE_QUIET: "1" };

describe("shellfree init-config", () => {
  test("a spec's init: section → canonical init.json; a bad one → one line, exit 1", async (t) => {
    const d = await tempDir("sf-init-cli-", t);
    const spec = join(d, "shellfree.yaml");
    await writeFile(
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
    const r = await shellfree(["init-config", spec], { env });
    assert.equal(r.code, 0, r.stderr);
    const expected = toInitJson(
      parseInitConfig({
        tasks: [{ "ensure-dir": "/var/spool/app", writable: true }],
        main: ["/usr/local/bin/node", "/app/server.js"],
        health: { port: 8080, ready: { http: "http://127.0.0.1:3000/ready" } },
        shutdown: { grace: "10s", drain: "1s" },
      }),
    );
    assert.equal(r.stdout, expected);
    await writeFile(spec, "init:\n  main: [/app]\n  health: { port: eighty }\n");
    const bad = await shellfree(["init-config", spec], { env });
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.equal(
      bad.stderr,
      `shellfree: ${spec}: init: health.port: must be an integer from 0 to 65535, got "eighty"\n`,
    );
  });

  test("init-bundle (the Node init's bundle) is no command any more", async () => {
    const r = await shellfree(["init-bundle", "--out", "/nonexistent/init.js"], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown command 'init-bundle'/);
  });
});
