/**
 * container-structure-test files written for the real tool, in distroless' style
 * (test/fixtures/cst/, schemaVersion 1.0.0), run unchanged by `shellfree test` against the
 * images they describe, built for real: `preset: base` under runc and podman, and a Python
 * image under runc. Also cst's license test on a real Debian image (base-files' copyright names
 * the AGPL: cst fails it, so must we) and a missing executable exiting 127 under both runtimes.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT } from "../../helpers/cli.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { cli } from "./common.ts";

const FIXTURES = join(ROOT, "test/fixtures/cst");

interface Report {
  passed: boolean;
  results: Array<{ kind: string; name: string; passed: boolean; message: string }>;
}

async function build(dir: string, name: string, spec: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, spec);
  const out = `oci:${join(dir, name)}:latest`;
  const r = await cli(["build", "-f", file, "-o", out, "--cache-dir", TEST_CACHE], 600_000);
  assert.equal(r.code, 0, `build ${name}: ${r.stderr}`);
  return out;
}

async function runTest(ref: string, config: string, driver: string): Promise<{ code: number; rep: Report }> {
  const r = await cli(["test", ref, "--driver", driver, "-c", config, "--json"], 600_000);
  assert.ok(r.code === 0 || r.code === 3, `shellfree test: exit ${r.code}\n${r.stderr}`);
  return { code: r.code, rep: JSON.parse(r.stdout) as Report };
}

function failures(rep: Report): string {
  return rep.results
    .filter((x) => !x.passed)
    .map((x) => `${x.kind} ${x.name}: ${x.message}`)
    .join("\n");
}

describe("distroless-style container-structure-test 1.0.0 files on shellfree presets", () => {
  let dir = "";
  let base = "";
  let python = "";
  before(async () => {
    dir = await tempDir("shellfree-cst-presets-");
    base = await build(dir, "base", "name: base\npreset: base\narchitectures: [amd64]\n");
    // preset: python is being added in parallel; until then Debian's python3 on base
    python = await build(
      dir,
      "python",
      "name: python\npreset: base\narchitectures: [amd64]\npackages:\n  include: [python3]\n",
    );
  });
  after(() => (dir ? removeDir(dir) : undefined));

  for (const driver of ["runc", "podman"]) {
    test(`base.yaml passes on preset: base under ${driver}`, async () => {
      const { code, rep } = await runTest(base, join(FIXTURES, "base.yaml"), driver);
      assert.equal(code, 0, failures(rep));
      assert.ok(rep.results.length >= 25, `all tests ran (${rep.results.length})`);
      assert.deepEqual([...new Set(rep.results.map((x) => x.kind))].sort(), [
        "command",
        "fileContent",
        "fileExistence",
        "license",
      ]);
    });
  }

  test("python3.yaml passes on Debian's python3", async () => {
    const { code, rep } = await runTest(python, join(FIXTURES, "python3.yaml"), "runc");
    assert.equal(code, 0, failures(rep));
    assert.equal(rep.results.filter((x) => x.kind === "command").length, 6);
  });

  test("the python file fails where the image differs (it tests something)", async () => {
    const { code, rep } = await runTest(base, join(FIXTURES, "python3.yaml"), "runc");
    assert.equal(code, 3);
    const failed = rep.results.filter((x) => !x.passed).map((x) => x.name);
    assert.ok(failed.includes("Debian's CPython 3.13"), failed.join(", "));
    assert.ok(failed.includes("the interpreter"), failed.join(", "));
  });

  test("licenseTests debian: true reads every copyright file and fails on the AGPL mention, as cst does", async () => {
    const yaml = join(dir, "license.yaml");
    await writeFile(yaml, 'schemaVersion: "1.0.0"\nlicenseTests:\n  - debian: true\n');
    const { code, rep } = await runTest(base, yaml, "runc");
    assert.equal(code, 3);
    assert.equal(rep.results.length, 1);
    assert.equal(rep.results[0].kind, "license");
    assert.match(rep.results[0].message, /\/usr\/share\/doc\/base-files\/copyright: contains AGPL/);
    // every other package's copyright file is there and clean
    assert.equal(rep.results[0].message.split("\n").length, 1, rep.results[0].message);
  });

  for (const driver of ["runc", "podman"]) {
    test(`a missing executable exits 127, a non-executable file 126, under ${driver}`, async () => {
      const yaml = join(dir, `exit-${driver}.yaml`);
      await writeFile(
        yaml,
        [
          'schemaVersion: "1.0.0"',
          "commandTests:",
          "  - name: no such file",
          '    command: ["/bin/sh", "-c", "true"]',
          "    exitCode: 127",
          "  - name: not on PATH",
          '    command: ["bash"]',
          "    exitCode: 127",
          "  - name: not executable",
          '    command: ["/etc/passwd"]',
          "    exitCode: 126",
          "",
        ].join("\n"),
      );
      const { code, rep } = await runTest(base, yaml, driver);
      assert.equal(code, 0, failures(rep));
    });
  }
});
