import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as openpgp from "openpgp";
import { DebianError } from "../../../src/debian/errors.ts";
import {
  checkValidUntil,
  loadKeyring,
  parseRelease,
  parseReleaseDate,
  verifyClearsigned,
  verifyDetached,
} from "../../../src/debian/release.ts";
import { clearsign, detachedSign, makeKey } from "../../fixtures/debian/fake-archive.ts";

const H1 = "a".repeat(64);
const H2 = "b".repeat(64);
const RELEASE = `Origin: Debian
Label: Debian
Suite: testing
Version: 14
Codename: forky
Date: Sat, 21 Nov 2026 09:15:44 UTC
Valid-Until: Sat, 28 Nov 2026 09:15:44 UTC
Acquire-By-Hash: yes
No-Support-for-Architecture-all: Packages
Architectures: all amd64 arm64
Components: main contrib
Description: Debian x
MD5Sum:
 ${"c".repeat(32)}  123 main/binary-amd64/Packages
SHA256:
 ${H1}  56634892 main/binary-amd64/Packages
 ${H2}   9679304 main/binary-amd64/Packages.xz
`;

const tmp = mkdtempSync(join(tmpdir(), "sf-release-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

let key: Awaited<ReturnType<typeof makeKey>>;
let other: Awaited<ReturnType<typeof makeKey>>;
let keys: openpgp.PublicKey[];
before(async () => {
  key = await makeKey();
  other = await makeKey("someone else");
  writeFileSync(join(tmp, "k.gpg"), key.keyring);
  keys = await loadKeyring(join(tmp, "k.gpg"));
});

test("parseRelease: identity fields, dates, flags and the SHA256 list", () => {
  const r = parseRelease(RELEASE);
  assert.equal(r.suite, "testing");
  assert.equal(r.codename, "forky");
  assert.equal(r.version, "14");
  assert.equal(r.date?.toISOString(), "2026-11-21T09:15:44.000Z");
  assert.equal(r.validUntil?.toISOString(), "2026-11-28T09:15:44.000Z");
  assert.equal(r.acquireByHash, true);
  assert.equal(r.noArchAllPackages, true);
  assert.deepEqual(r.architectures, ["all", "amd64", "arm64"]);
  assert.deepEqual(r.components, ["main", "contrib"]);
  assert.deepEqual(
    [...r.sha256.entries()],
    [
      ["main/binary-amd64/Packages", { sha256: H1, size: 56634892 }],
      ["main/binary-amd64/Packages.xz", { sha256: H2, size: 9679304 }],
    ],
  );
});

test("parseRelease rejects malformed hash lines and dates", () => {
  assert.throws(
    () => parseRelease("Suite: x\nSHA256:\n nothex 12 main/x\n"),
    (e: unknown) =>
      e instanceof DebianError && e.code === "E_INDEX" && /malformed SHA256 line/.test(e.message),
  );
  assert.throws(
    () => parseRelease("Suite: x\nDate: yesterday\n"),
    (e: unknown) => e instanceof DebianError && /invalid Date/.test(e.message),
  );
});

test("parseReleaseDate: UTC, numeric offsets, no weekday", () => {
  assert.equal(parseReleaseDate("Sat, 21 Nov 2026 09:15:44 UTC")?.toISOString(), "2026-11-21T09:15:44.000Z");
  assert.equal(parseReleaseDate("21 Nov 2026 09:15:44 +0130")?.toISOString(), "2026-11-21T07:45:44.000Z");
  assert.equal(parseReleaseDate("Sun, 1 Feb 2026 00:00:00 -0500")?.toISOString(), "2026-02-01T05:00:00.000Z");
  assert.equal(parseReleaseDate("2026-11-21"), undefined);
  assert.equal(parseReleaseDate("Sat, 21 Foo 2026 09:15:44 UTC"), undefined);
});

test("Valid-Until: an expired Release is E_EXPIRED saying so, when, and naming --allow-expired", () => {
  const r = parseRelease(RELEASE);
  const late = new Date("2026-12-01T00:00:00Z");
  assert.throws(
    () => checkValidUntil(r, "forky InRelease", late, false),
    (e: unknown) =>
      e instanceof DebianError &&
      e.code === "E_EXPIRED" &&
      /forky InRelease expired/.test(e.message) &&
      /Sat, 28 Nov 2026 09:15:44 GMT/.test(e.message) &&
      /--allow-expired/.test(e.hint ?? ""),
  );
  checkValidUntil(r, "x", late, true);
  checkValidUntil(r, "x", new Date("2026-11-22T00:00:00Z"), false);
  checkValidUntil(parseRelease("Suite: x\n"), "x", late, false); // no Valid-Until: nothing to enforce
});

test("clear-signed InRelease: good signature verifies, returns only the signed text", async () => {
  const signed = await clearsign(RELEASE, key.privateKey);
  const { text, signedBy } = await verifyClearsigned(signed, keys, "InRelease");
  assert.equal(text, RELEASE);
  assert.deepEqual(signedBy, [keys[0].getFingerprint()]);
});

test("clear-signed InRelease: tampered text is E_SIGNATURE naming the file", async () => {
  const signed = await clearsign(RELEASE, key.privateKey);
  const tampered = signed.replace(H1, H1.replace(/^a/, "f"));
  assert.notEqual(tampered, signed);
  await assert.rejects(
    verifyClearsigned(tampered, keys, "http://m.example.invalid/debian/dists/forky/InRelease"),
    (e: unknown) =>
      e instanceof DebianError &&
      e.code === "E_SIGNATURE" &&
      /dists\/forky\/InRelease: no valid signature/.test(e.message),
  );
});

test("clear-signed InRelease: a signature by a key not in the keyring is rejected", async () => {
  const signed = await clearsign(RELEASE, other.privateKey);
  await assert.rejects(
    verifyClearsigned(signed, keys, "InRelease"),
    (e: unknown) => e instanceof DebianError && e.code === "E_SIGNATURE",
  );
  await assert.rejects(
    verifyClearsigned(RELEASE, keys, "InRelease"),
    (e: unknown) =>
      e instanceof DebianError && e.code === "E_SIGNATURE" && /not a valid clear-signed/.test(e.message),
  );
});

test("detached Release.gpg: good verifies, changed data or foreign key fails", async () => {
  const data = Buffer.from(RELEASE);
  const sig = Buffer.from(await detachedSign(data, key.privateKey));
  assert.deepEqual(await verifyDetached(data, sig, keys, "Release"), [keys[0].getFingerprint()]);
  await assert.rejects(
    verifyDetached(Buffer.from(RELEASE.replace("forky", "forkz")), sig, keys, "Release"),
    (e: unknown) => e instanceof DebianError && e.code === "E_SIGNATURE" && /^Release: /.test(e.message),
  );
  const foreign = Buffer.from(await detachedSign(data, other.privateKey));
  await assert.rejects(
    verifyDetached(data, foreign, keys, "Release"),
    (e: unknown) => e instanceof DebianError && e.code === "E_SIGNATURE",
  );
});

test("loadKeyring: missing file or garbage is a clear E_KEYRING; armored keyrings load", async () => {
  await assert.rejects(
    loadKeyring(join(tmp, "nope.gpg")),
    (e: unknown) =>
      e instanceof DebianError &&
      e.code === "E_KEYRING" &&
      /nope\.gpg/.test(e.message) &&
      /--keyring/.test(e.hint ?? ""),
  );
  writeFileSync(join(tmp, "garbage.gpg"), "not a key\n");
  await assert.rejects(
    loadKeyring(join(tmp, "garbage.gpg")),
    (e: unknown) => e instanceof DebianError && e.code === "E_KEYRING",
  );
  const pub = await openpgp.readKey({ binaryKey: key.keyring });
  writeFileSync(join(tmp, "k.asc"), pub.armor());
  const armored = await loadKeyring(join(tmp, "k.asc"));
  assert.equal(armored[0].getFingerprint(), keys[0].getFingerprint());
});
