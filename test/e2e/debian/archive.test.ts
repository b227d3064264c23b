/**
 * The real Debian archive (mirror from $SHELLFREE_MIRROR or the host's apt sources), verified
 * with the host's Debian archive keyring.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as openpgp from "openpgp";
import { DEFAULT_KEYRING, loadRelease, loadUniverse } from "../../../src/debian/archive.ts";
import { DebianError } from "../../../src/debian/errors.ts";
import type { PackageUniverse } from "../../../src/debian/types.ts";
import { setQuiet } from "../../../src/util/progress.ts";
import { archiveOptions } from "../../helpers/mirror.ts";

setQuiet(true);
const fresh = mkdtempSync(join(tmpdir(), "sf-archive-e2e-"));
after(() => rmSync(fresh, { recursive: true, force: true }));

function checkUniverse(u: PackageUniverse, arch: string, triplet: string) {
  assert.equal(u.arch, arch);
  assert.ok(u.packages.length > 50_000, `only ${u.packages.length} packages`);
  const archs = new Set(u.packages.map((p) => p.architecture));
  assert.deepEqual([...archs].sort(), ["all", arch].sort());
  const libc = u.packages.find((p) => p.name === "libc6");
  assert.ok(libc, "libc6 missing");
  assert.equal(libc.architecture, arch);
  assert.equal(libc.multiArch, "same");
  assert.match(libc.filename, new RegExp(`^pool/main/g/glibc/libc6_.*_${arch}\\.deb$`));
  assert.match(libc.sha256, /^[0-9a-f]{64}$/);
  assert.ok(libc.size > 1_000_000);
  assert.match(libc.fields.Description, /^GNU C Library: Shared libraries/);
  assert.equal(libc.fields.Package, "libc6");
  assert.equal(libc.fields.Version, libc.version);
  // an arch-all package appears in the binary-<arch> index
  const tz = u.packages.find((p) => p.name === "tzdata");
  assert.equal(tz?.architecture, "all");
  // Pre-Depends and versioned Provides come through
  assert.ok(u.packages.some((p) => /\(= /.test(p.provides)));
  assert.ok(u.packages.some((p) => p.preDepends !== ""));
  assert.ok(u.packages.some((p) => p.essential));
  void triplet;
}

test("trixie InRelease verifies against the host's Debian keyring (fresh cache: real signature check)", async () => {
  const opts = archiveOptions("trixie", "amd64", { cacheDir: join(fresh, "c1") });
  const rel = await loadRelease(opts.sources[0], opts);
  assert.equal(rel.codename, "trixie");
  assert.ok(rel.validUntil === undefined || rel.validUntil > new Date());
  assert.ok(rel.sha256.has("main/binary-amd64/Packages.xz"));
  assert.ok(rel.sha256.has("main/binary-arm64/Packages.xz"));
  assert.ok(rel.signedBy.length >= 1);
  const keyring = await openpgp.readKeys({
    binaryKeys: new Uint8Array(await (await import("node:fs/promises")).readFile(DEFAULT_KEYRING)),
  });
  const fprs = new Set(keyring.map((k) => k.getFingerprint()));
  for (const f of rel.signedBy) assert.ok(fprs.has(f), `${f} is not in the host keyring`);
});

test("a keyring without Debian's keys refuses the real InRelease", async () => {
  const { privateKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "x" }],
  });
  const pub = (await openpgp.readPrivateKey({ armoredKey: privateKey })).toPublic();
  const path = join(fresh, "other.gpg");
  (await import("node:fs")).writeFileSync(path, pub.write());
  const opts = archiveOptions("trixie", "amd64", { cacheDir: join(fresh, "c2"), keyring: path });
  await assert.rejects(
    loadRelease(opts.sources[0], opts),
    (e: unknown) =>
      e instanceof DebianError && e.code === "E_SIGNATURE" && /dists\/trixie\/InRelease/.test(e.message),
  );
});

test("trixie amd64 universe loads; a warm load re-parses nothing and is fast", async (t) => {
  const opts = archiveOptions("trixie", "amd64");
  checkUniverse(await loadUniverse(opts), "amd64", "x86_64-linux-gnu");
  const t0 = performance.now();
  const u = await loadUniverse(opts);
  const ms = performance.now() - t0;
  t.diagnostic(`warm loadUniverse trixie amd64: ${ms.toFixed(0)} ms, ${u.packages.length} packages`);
  assert.ok(ms < 1000, `warm load took ${ms.toFixed(0)} ms`);
  checkUniverse(u, "amd64", "x86_64-linux-gnu");
});

test("trixie arm64 universe loads", async () => {
  checkUniverse(await loadUniverse(archiveOptions("trixie", "arm64")), "arm64", "aarch64-linux-gnu");
});

test("trixie + trixie-security: packages carry their source", async () => {
  const opts = archiveOptions("trixie", "amd64", { security: true });
  assert.equal(opts.sources[1].suite, "trixie-security");
  const u = await loadUniverse(opts);
  const sec = u.packages.filter((p) => p.source === opts.sources[1]);
  assert.ok(sec.length > 10, `only ${sec.length} security packages`);
  assert.ok(u.packages.filter((p) => p.source === opts.sources[0]).length > 50_000);
  for (const p of sec) assert.ok(p.architecture === "amd64" || p.architecture === "all");
});

test("forky: the expired Valid-Until is E_EXPIRED naming --allow-expired; --allow-expired loads it", async () => {
  const opts = archiveOptions("forky", "amd64");
  await assert.rejects(loadRelease(opts.sources[0], opts), (e: unknown) => {
    assert.ok(e instanceof DebianError);
    assert.equal(e.code, "E_EXPIRED");
    assert.match(
      e.message,
      /dists\/forky\/InRelease expired: Valid-Until \w{3}, \d{2} \w{3} \d{4} [\d:]{8} GMT is in the past/,
    );
    assert.match(e.hint ?? "", /--allow-expired/);
    return true;
  });
  const u = await loadUniverse({ ...opts, allowExpired: true });
  assert.ok(u.packages.length > 50_000);
  assert.ok(u.packages.some((p) => p.name === "libc6"));
});

test("an unknown suite is a clear E_NOT_FOUND", async () => {
  const opts = archiveOptions("no-such-suite", "amd64", { cacheDir: join(fresh, "c3") });
  await assert.rejects(
    loadUniverse(opts),
    (e: unknown) =>
      e instanceof DebianError && e.code === "E_NOT_FOUND" && /suite no-such-suite not found/.test(e.message),
  );
});
