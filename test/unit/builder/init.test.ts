/**
 * What the builder does for `init:` without building: the init section's problems as
 * file:line messages, the image config's init defaults (entrypoint, HEALTHCHECK), the binary it
 * installs, and `--locked` against the binary the lock records.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildAccounts } from "../../../src/builder/accounts.ts";
import { initConfigJson } from "../../../src/builder/build.ts";
import { INIT_HEALTHCHECK, imageConfig } from "../../../src/builder/image-config.ts";
import { checkLockedInit, initBinaryFor } from "../../../src/builder/init-layer.ts";
import { INIT_BINARY_PATH, initVersion, readInitBinary } from "../../../src/init/index.ts";
import { loadSpec } from "../../../src/spec/index.ts";
import { tempDir } from "../../helpers/tmp.ts";

async function specFile(t: { after(fn: () => Promise<void>): void }, text: string): Promise<string> {
  const d = await tempDir("sf-init-spec-", t);
  const f = join(d, "shellfree.yaml");
  await writeFile(f, text);
  return f;
}

function buildError(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  assert.fail("expected an error");
}

const HEAD = "name: t\npackages: { include: [base-files] }\n"; // lines 1-2

describe("init: problems carry file:line like the rest of the spec", () => {
  test("a value, a list item, an unknown key, a missing key", async (t) => {
    const cases: Array<[string, string]> = [
      ["init:\n  main: [/app]\n  health: { port: eighty }\n", `:5: init.health.port: must be an integer`],
      [
        "init:\n  main: [/app]\n  tasks:\n    - { ensure-dir: /a }\n    - { run: [/x], when-missing: relative }\n",
        ":7: init.tasks[1].when-missing: must be an absolute path",
      ],
      [
        "init:\n  main: [/app]\n  shutdown:\n    grace: 10s\n    frobnicate: 1\n",
        ":7: init.shutdown.frobnicate: unknown key",
      ],
      ["init:\n  tasks: []\n", ":3: init.main: is required: the command to supervise"],
      [
        "init:\n  main: [/app]\n  health:\n    port: 8080\n    ready: {}\n",
        ":7: init.health.ready: needs exactly one of tcp, http, exec, listening",
      ],
    ];
    for (const [init, want] of cases) {
      const f = await specFile(t, HEAD + init);
      const e = buildError(() => initConfigJson(loadSpec(f)));
      assert.equal(e.code, "E_SPEC");
      assert.ok(
        e.message.startsWith(`${f}${want}`),
        `${JSON.stringify(init)}:\n  ${e.message}\n  wanted ${f}${want}`,
      );
      assert.doesNotMatch(e.message, /\n/);
    }
  });

  test("the line is in the file that has the init section, under extends", async (t) => {
    const base = await specFile(t, `${HEAD}init:\n  main: [/app]\n  pid-file: run/app.pid\n`);
    const d = await tempDir("sf-init-spec-", t);
    const child = join(d, "child.yaml");
    await writeFile(child, `extends: ${base}\nname: child\n`);
    const e = buildError(() => initConfigJson(loadSpec(child)));
    assert.match(e.message, new RegExp(`^${base.replace(/[.]/g, "\\.")}:5: init\\.pid-file: `));
  });

  test("a good section becomes init.json", async (t) => {
    const f = await specFile(t, `${HEAD}init:\n  main: [/app]\n`);
    assert.equal(JSON.parse(initConfigJson(loadSpec(f)) as string).main[0], "/app");
  });
});

describe("the image config of an image with init:", () => {
  const accounts = buildAccounts({ groups: [], users: [] });
  test("entrypoint and HEALTHCHECK default to the init's; the spec's own win", async (t) => {
    const withInit = loadSpec(await specFile(t, `${HEAD}init:\n  main: [/app]\n`));
    const c = imageConfig(withInit, accounts, false);
    assert.deepEqual(c.entrypoint, [INIT_BINARY_PATH]);
    assert.deepEqual(c.healthcheck, INIT_HEALTHCHECK);
    assert.deepEqual(INIT_HEALTHCHECK.test, ["/usr/bin/shellfree-init", "probe", "/ready"]);
    const own = loadSpec(
      await specFile(
        t,
        `${HEAD}init:\n  main: [/app]\nconfig:\n  entrypoint: [/usr/bin/shellfree-init, --log-format, json]\n  healthcheck: { test: [/usr/bin/shellfree-init, probe, /live], interval: 5s }\n`,
      ),
    );
    const o = imageConfig(own, accounts, false);
    assert.deepEqual(o.entrypoint, ["/usr/bin/shellfree-init", "--log-format", "json"]);
    assert.deepEqual(o.healthcheck, { test: ["/usr/bin/shellfree-init", "probe", "/live"], interval: "5s" });
    const noInit = imageConfig(loadSpec(await specFile(t, HEAD)), accounts, false);
    assert.equal(noInit.entrypoint, undefined);
    assert.equal(noInit.healthcheck, undefined);
  });
});

describe("the init binary the builder installs", () => {
  test("the one for the architecture, with its size and SHA256; none for an unknown one", () => {
    const b = initBinaryFor("arm64");
    const direct = readInitBinary("arm64");
    assert.equal(b.sha256, direct.sha256);
    assert.equal(b.size, direct.size);
    assert.equal(b.version, initVersion());
    assert.equal(b.path, "/usr/bin/shellfree-init");
    const e = buildError(() => initBinaryFor("sparc64"));
    assert.equal(e.code, "E_INIT_BINARY");
    assert.match(e.message, /not built for architecture sparc64/);
  });

  test("--locked: the binary must be the one the lock records", () => {
    const b = initBinaryFor("amd64");
    const lock = (init?: { version: string; sha256: string }) => ({
      file: "shellfree.lock",
      lock: { architectures: { amd64: { packages: [], excluded: [], init } } },
    });
    checkLockedInit(b, "amd64", undefined);
    checkLockedInit(b, "amd64", lock({ version: b.version, sha256: b.sha256 }));
    const other = buildError(() =>
      checkLockedInit(b, "amd64", lock({ version: b.version, sha256: "0".repeat(64) })),
    );
    assert.equal(other.code, "E_LOCKED");
    assert.equal(
      other.message,
      `shellfree.lock (amd64) records shellfree-init ${b.version} sha256:000000000000, but this shellfree carries shellfree-init ${b.version} sha256:${b.sha256.slice(0, 12)}`,
    );
    assert.match((other as unknown as { hint: string }).hint, /shellfree lock/);
    const none = buildError(() => checkLockedInit(b, "amd64", lock()));
    assert.match(
      none.message,
      /^shellfree\.lock \(amd64\) records no shellfree-init, but the spec has init:/,
    );
  });
});
