import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { formatLock, type Lockfile } from "../../../src/builder/index.ts";
import { isImageRef, OutdatedError, readInstalled } from "../../../src/outdated/index.ts";
import { loadSpec, resolutionInputsHash } from "../../../src/spec/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sf-outdated-input-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const lp = (name: string, version: string, suite: string, component = "main", architecture = "amd64") => ({
  name,
  version,
  architecture,
  sha256: "a".repeat(64),
  size: 1,
  filename: `pool/${component}/${name[0]}/${name}/${name}_${version}_${architecture}.deb`,
  suite,
});

function lock(over: Partial<Lockfile> = {}): Lockfile {
  return {
    lockfileVersion: 1,
    inputs: "sha256:x",
    suite: "trixie",
    sourceDateEpoch: 1,
    architectures: {
      amd64: {
        excluded: [],
        packages: [
          lp("base-files", "13.8", "trixie"),
          lp("libc6", "2.41-12+deb13u1", "trixie-security"),
          lp("tzdata", "2025b-4+deb13u1", "trixie-updates", "main", "all"),
          lp("firmware-x", "1", "trixie", "non-free-firmware"),
        ],
      },
      arm64: { excluded: [], packages: [lp("base-files", "13.8", "trixie", "main", "arm64")] },
    },
    ...over,
  };
}

const code = (c: string, exit: number, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof OutdatedError, `expected an OutdatedError, got ${e}`);
  assert.equal(e.code, c);
  assert.equal(e.exitCode, exit);
  assert.match(e.message, re);
  return true;
};

describe("readInstalled", () => {
  test("a lockfile: one target per architecture; components from its pool paths; suites it used", async () => {
    const file = join(dir, "a.lock");
    writeFileSync(file, formatLock(lock()));
    const i = await readInstalled({ target: file });
    assert.equal(i.kind, "lockfile");
    assert.equal(i.ref, file);
    assert.equal(i.spec, undefined);
    assert.deepEqual(
      i.targets.map((t) => [t.architecture, t.suite, t.packages.length]),
      [
        ["amd64", "trixie", 4],
        ["arm64", "trixie", 1],
      ],
    );
    assert.deepEqual(i.targets[0].packages[2], {
      name: "libc6",
      version: "2.41-12+deb13u1",
      architecture: "amd64",
    });
    assert.deepEqual(i.components, ["main", "non-free-firmware"]);
    // the security suite is always compared; -updates because the lock has a package from it
    assert.deepEqual(i.extraSuites, ["trixie-updates"]);
    assert.equal(i.specSecurity, undefined);
    assert.deepEqual(i.warnings, []);
  });

  test("--arch, --components and --extra-suite", async () => {
    const file = join(dir, "b.lock");
    writeFileSync(file, formatLock(lock()));
    const i = await readInstalled({
      target: file,
      arch: ["arm64"],
      components: ["main", "contrib"],
      extraSuites: ["trixie-backports"],
    });
    assert.deepEqual(
      i.targets.map((t) => t.architecture),
      ["arm64"],
    );
    assert.deepEqual(i.components, ["main", "contrib"]);
    assert.deepEqual(i.extraSuites, ["trixie-updates", "trixie-backports"]);
    await assert.rejects(
      readInstalled({ target: file, arch: ["riscv64"] }),
      code("E_OUTDATED_INPUT", 1, /has no architecture riscv64 \(it has: amd64, arm64\)$/),
    );
  });

  test("a spec stands for the lock beside it; its sources, pins and a lock that no longer matches", async () => {
    const d = mkdtempSync(join(dir, "spec-"));
    const specFile = join(d, "shellfree.yaml");
    writeFileSync(
      specFile,
      "name: t\nsuite: trixie\npackages:\n  include: [hello, libgreet1=1.0-1]\n  pins: { tzdata: 2025b-4 }\nsources:\n  security: true\n  components: [main, contrib]\n  suites: [trixie-updates]\n",
    );
    const spec = loadSpec(specFile);
    writeFileSync(join(d, "shellfree.lock"), formatLock(lock({ inputs: resolutionInputsHash(spec) })));
    const i = await readInstalled({ target: specFile });
    assert.equal(i.ref, join(d, "shellfree.lock"));
    assert.equal(i.spec, specFile);
    assert.deepEqual(i.components, ["main", "contrib"]);
    assert.deepEqual(i.extraSuites, ["trixie-updates"]);
    assert.equal(i.specSecurity, true);
    assert.deepEqual(i.pins, { libgreet1: "1.0-1", tzdata: "2025b-4" });
    assert.deepEqual(i.warnings, []);

    writeFileSync(specFile, "name: t\nsuite: trixie\npackages:\n  include: [hello, curl]\n");
    const j = await readInstalled({ target: specFile });
    assert.equal(j.specSecurity, false);
    assert.equal(j.warnings.length, 1);
    assert.match(
      j.warnings[0],
      /shellfree\.lock was not written for .*shellfree\.yaml as it is now.*run `shellfree lock`$/,
    );
  });

  test("a spec without a lock is refused, saying why and what to do", async () => {
    const d = mkdtempSync(join(dir, "nolock-"));
    writeFileSync(join(d, "shellfree.yaml"), "name: t\nsuite: trixie\npackages:\n  include: [hello]\n");
    await assert.rejects(readInstalled({ target: join(d, "shellfree.yaml") }), (e: unknown) => {
      assert.ok(e instanceof OutdatedError);
      assert.equal(e.exitCode, 1);
      assert.match(
        e.message,
        /shellfree\.lock does not exist: outdated compares what a lock or an image holds/,
      );
      assert.match(e.hint ?? "", /shellfree lock/);
      return true;
    });
  });

  test("bad targets and flag combinations", async () => {
    await assert.rejects(
      readInstalled({ target: join(dir, "missing.lock") }),
      code("E_OUTDATED_INPUT", 1, /missing\.lock: no such file$/),
    );
    await assert.rejects(readInstalled({ target: dir }), code("E_OUTDATED_INPUT", 1, /: a directory$/));
    const broken = join(dir, "broken.lock");
    writeFileSync(broken, '{"lockfileVersion": 1, ');
    await assert.rejects(readInstalled({ target: broken }), { code: "E_LOCK", message: /not valid JSON/ });
    const file = join(dir, "c.lock");
    writeFileSync(file, formatLock(lock()));
    await assert.rejects(
      readInstalled({ target: file, platform: "linux/amd64" }),
      code("E_OUTDATED_INPUT", 2, /--platform/),
    );
    await assert.rejects(
      readInstalled({ target: file, suite: "bookworm" }),
      code("E_OUTDATED_INPUT", 2, /--suite/),
    );
    await assert.rejects(
      readInstalled({ target: file, lockfile: file }),
      code("E_OUTDATED_INPUT", 2, /--lockfile/),
    );
    await assert.rejects(
      readInstalled({ target: file, preset: "static" }),
      code("E_OUTDATED_INPUT", 2, /either a target or --preset/),
    );
  });

  test("image references are recognised by their transport", () => {
    for (const r of [
      "oci:out/x",
      "oci-archive:x.tar",
      "docker-archive:x.tar",
      "registry:127.0.0.1:5000/a:b",
      "docker://h/a",
    ])
      assert.ok(isImageRef(r), r);
    for (const r of ["shellfree.lock", "out/x", "./oci"]) assert.ok(!isImageRef(r), r);
  });
});
