/**
 * `shellfree outdated` against the configured Debian mirror and its security mirror (read-only):
 * a lock and an image of `--preset static` for amd64 and arm64, made by shellfree a moment ago,
 * compared with trixie and trixie-security. The archive's versions move, so nothing here asserts
 * them: the answer must be well formed, consistent with itself, and the same for the lock and
 * for the image built from it.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { compareVersions } from "../../../src/debian/index.ts";
import type { OutdatedJson } from "../../../src/outdated/index.ts";
import { makeImage } from "../../helpers/images.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { shellfree } from "../builder/common.ts";

const CODE_OF = { "up-to-date": 0, updates: 11, "security-updates": 10 } as const;

/** Every field of the schema, with its type, and the answer consistent with itself. */
function checkSchema(j: OutdatedJson, kind: "lockfile" | "image", archs = ["amd64", "arm64"]): void {
  assert.deepEqual(Object.keys(j), [
    "schemaVersion",
    "input",
    "status",
    "exitCode",
    "summary",
    "targets",
    "updates",
    "notInArchive",
    "warnings",
  ]);
  assert.equal(j.schemaVersion, 1);
  assert.equal(j.input.kind, kind);
  assert.equal(typeof j.input.ref, "string");
  assert.ok(j.input.spec === null || typeof j.input.spec === "string");
  assert.ok(Object.hasOwn(CODE_OF, j.status), j.status);
  assert.equal(j.exitCode, CODE_OF[j.status]);
  assert.deepEqual(
    j.targets.map((t) => t.architecture),
    archs,
  );
  for (const t of j.targets) {
    assert.equal(t.suite, "trixie");
    assert.ok(t.packages > 0);
    assert.equal(t.updates, j.updates.filter((u) => u.architecture === t.architecture).length);
    assert.equal(t.security, j.updates.filter((u) => u.architecture === t.architecture && u.security).length);
    assert.deepEqual(
      t.sources.map((s) => [s.suite, s.security]),
      [
        ["trixie", false],
        ["trixie-security", true],
      ],
    );
    for (const s of t.sources) {
      assert.match(s.uri, /^https?:\/\//);
      assert.ok(s.date !== null && !Number.isNaN(Date.parse(s.date)), `${s.suite} has a Release date`);
    }
    if (kind === "image") {
      assert.match(t.platform ?? "", /^linux\/(amd64|arm64\/v8)$/);
      assert.match(t.manifest ?? "", /^sha256:[0-9a-f]{64}$/);
    } else {
      assert.equal(t.platform, null);
      assert.equal(t.manifest, null);
    }
  }
  assert.deepEqual(j.summary, {
    packages: j.targets.reduce((n, t) => n + t.packages, 0),
    updates: j.updates.length,
    security: j.updates.filter((u) => u.security).length,
  });
  for (const u of j.updates) {
    assert.deepEqual(Object.keys(u), [
      "architecture",
      "name",
      "installed",
      "candidate",
      "suite",
      "security",
      "securityVersion",
      "source",
      "sourceVersion",
    ]);
    assert.equal(compareVersions(u.candidate, u.installed), 1, `${u.name}: candidate newer than installed`);
    assert.ok(["trixie", "trixie-security"].includes(u.suite), u.suite);
    assert.match(u.source, /^[a-z0-9][a-z0-9+.-]+$/);
    assert.ok(u.sourceVersion.length > 0);
    if (u.security) {
      assert.ok(u.securityVersion !== null);
      assert.equal(compareVersions(u.securityVersion, u.installed), 1);
      assert.ok(compareVersions(u.securityVersion, u.candidate) <= 0);
    } else assert.equal(u.securityVersion, null);
  }
  assert.equal(
    j.status,
    j.updates.some((u) => u.security) ? "security-updates" : j.updates.length ? "updates" : "up-to-date",
  );
  // a lock made a moment ago from this archive: every package is still in it
  assert.deepEqual(j.notInArchive, []);
}

describe("shellfree outdated (the configured mirror, read-only)", () => {
  let tmp: string;
  let lockfile: string;
  const cache = ["--cache-dir", TEST_CACHE];
  const sf = (args: string[]) => shellfree(args, { timeoutMs: 900_000 });

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-outdated-real-"));
    lockfile = join(tmp, "shellfree.lock");
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("lock, build --locked, then outdated on the lock and on the image: well formed and the same answer", async () => {
    const preset = ["--preset", "static", "--arch", "amd64,arm64", "--lockfile", lockfile];
    const l = await sf(["lock", ...preset, ...cache]);
    assert.equal(l.code, 0, l.stderr);

    const a = await sf(["-q", "outdated", lockfile, "--json", ...cache]);
    assert.ok([0, 10, 11].includes(a.code ?? -1), `exit ${a.code}: ${a.stderr}`);
    const fromLock = JSON.parse(a.stdout) as OutdatedJson;
    checkSchema(fromLock, "lockfile");
    assert.equal(a.code, fromLock.exitCode);
    assert.deepEqual(fromLock.input, { kind: "lockfile", ref: lockfile, spec: null });

    const out = join(tmp, "static");
    const b = await sf(["build", ...preset, "--locked", "-o", `oci:${out}`, "--no-sbom", ...cache]);
    assert.equal(b.code, 0, b.stderr);
    const c = await sf(["-q", "outdated", `oci:${out}`, "--json", ...cache]);
    assert.ok([0, 10, 11].includes(c.code ?? -1), `exit ${c.code}: ${c.stderr}`);
    const fromImage = JSON.parse(c.stdout) as OutdatedJson;
    checkSchema(fromImage, "image");

    // the image's dpkg database holds exactly the lock's packages
    assert.deepEqual(
      fromImage.targets.map((t) => t.packages),
      fromLock.targets.map((t) => t.packages),
    );
    // and, when both runs saw the same Releases, the same updates
    const dates = (j: OutdatedJson) => JSON.stringify(j.targets.map((t) => t.sources.map((s) => s.date)));
    if (dates(fromImage) === dates(fromLock)) assert.deepEqual(fromImage.updates, fromLock.updates);

    // the text report of the same
    const t = await sf(["-q", "outdated", lockfile, ...cache]);
    assert.equal(t.code, a.code);
    assert.match(
      t.stdout,
      new RegExp(
        `^${lockfile.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(trixie, amd64\\): \\d+ packages compared with trixie, trixie-security\\n`,
      ),
    );
    assert.match(
      t.stdout,
      /\n(up to date|\d+ newer versions?, (none from the security suite|\d+ security updates?))\n$/,
    );
    process.stderr.write(
      `# outdated on the real mirror: ${fromLock.status}, ${fromLock.summary.updates} updates (${fromLock.summary.security} security)\n`,
    );
  });

  test("an image whose dpkg database (status.d) holds versions older than any in trixie: each listed, from the real indices", async () => {
    const para = (name: string, source: string) =>
      `Package: ${name}\nSource: ${source}\nVersion: 0.1-1\nArchitecture: amd64\nMaintainer: x\nDescription: x\n`;
    const img = await makeImage(join(tmp, "old"), {
      files: [
        { path: "/usr/lib/os-release", data: "ID=debian\nVERSION_CODENAME=trixie\n" },
        { path: "/var/lib/dpkg/status.d/libc6", data: para("libc6", "glibc") },
        { path: "/var/lib/dpkg/status.d/zlib1g", data: para("zlib1g", "zlib") },
        { path: "/var/lib/dpkg/status.d/libssl3t64", data: para("libssl3t64", "openssl") },
      ],
    });
    const r = await sf(["-q", "outdated", img.ref, "--json", ...cache]);
    assert.ok([10, 11].includes(r.code ?? -1), `exit ${r.code}: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as OutdatedJson;
    checkSchema(j, "image", ["amd64"]);
    assert.equal(r.code, j.exitCode);
    assert.deepEqual(
      j.updates.map((u) => [u.name, u.installed, u.source]),
      [
        ["libc6", "0.1-1", "glibc"],
        ["libssl3t64", "0.1-1", "openssl"],
        ["zlib1g", "0.1-1", "zlib"],
      ],
    );
    process.stderr.write(
      `# outdated on the real mirror, old image: ${j.updates.map((u) => `${u.name} → ${u.candidate} (${u.suite}${u.security ? ", security" : ""})`).join("; ")}\n`,
    );
  });
});
