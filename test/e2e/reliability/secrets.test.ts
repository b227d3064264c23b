/**
 * Issue 17, item 4: credentials in a mirror URL work (sent as Basic auth) and are never
 * printed — not in errors, progress lines, --json output or files written (cache, lockfile) —
 * and neither are apt's auth.conf.d passwords or credentials written into an image reference.
 * A fake archive on 127.0.0.1 that demands Basic auth.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FakeServer, fakeArchive, makeKey, serveArchive } from "../../fixtures/debian/fake-archive.ts";
import { snapshotTree } from "../../helpers/snapshot.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { shellfree } from "../builder/common.ts";

const USER = "mirror-user";
const PASS = "s3cr3t-Mirror-pw";
const BASIC = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;

let dir = "";
let keyring = "";
let archive: FakeServer;
let withCreds = "";

before(async () => {
  dir = await tempDir("shellfree-secrets-");
  const key = await makeKey();
  keyring = join(dir, "keyring.gpg");
  writeFileSync(keyring, key.keyring);
  const a = await fakeArchive({
    suite: "trixie",
    packages: [
      { name: "hello", version: "1.0-1", compression: "gz", data: undefined },
      { name: "base-files", version: "13", compression: "gz", data: undefined },
    ],
    key: key.privateKey,
  });
  archive = await serveArchive(a.files);
  archive.requireAuth = BASIC;
  withCreds = archive.url.replace("http://", `http://${USER}:${PASS}@`);
});
after(async () => {
  await archive?.close();
  if (dir) await removeDir(dir);
});

/** No form of the password in `text`: plain, URL-encoded, or Basic-encoded. */
function assertNoSecret(text: string, what: string): void {
  for (const s of [PASS, encodeURIComponent(PASS), BASIC.slice(6)]) {
    assert.ok(!text.includes(s), `${what} carries the password (${JSON.stringify(s)}):\n${text}`);
  }
}

async function assertNoSecretInTree(root: string): Promise<void> {
  for (const [path, entry] of await snapshotTree(root)) {
    assertNoSecret(path, `the path ${path}`);
    if (!path.endsWith("/")) {
      const full = join(root, path);
      let text = "";
      try {
        text = readFileSync(full, "latin1");
      } catch {
        continue;
      }
      assertNoSecret(text, `the file ${path} (${JSON.stringify(entry).slice(0, 40)})`);
    }
  }
}

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("shellfree: "));

describe("credentials in a mirror URL", () => {
  test("resolve and fetch work with them, send them, and never show them", async () => {
    const cache = join(dir, "c1");
    const out = join(dir, "debs");
    archive.auths.length = 0;
    const r = await shellfree([
      "resolve",
      "--mirror",
      withCreds,
      "--keyring",
      keyring,
      "--cache-dir",
      cache,
      "--json",
      "hello",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as Array<{ name: string }>).map((p) => p.name),
      ["hello"],
    );
    assertNoSecret(r.stdout + r.stderr, "resolve's output");
    assert.ok(archive.auths.length > 0 && archive.auths.every((a) => a === BASIC), "sent as Basic auth");
    const f = await shellfree([
      "fetch",
      "hello",
      "--mirror",
      withCreds,
      "--keyring",
      keyring,
      "--cache-dir",
      cache,
      "--out",
      out,
    ]);
    assert.equal(f.code, 0, f.stderr);
    assertNoSecret(f.stdout + f.stderr, "fetch's output");
    await assertNoSecretInTree(cache);
    await assertNoSecretInTree(out);
  });

  test("a wrong password: one line naming the mirror without credentials, exit 1, no stack trace", async () => {
    const wrong = archive.url.replace("http://", `http://${USER}:${PASS}-wrong@`);
    const r = await shellfree([
      "resolve",
      "--mirror",
      wrong,
      "--keyring",
      keyring,
      "--cache-dir",
      join(dir, "c2"),
      "hello",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      errorLines(r.stderr),
      [`shellfree: GET ${archive.url}/dists/trixie/InRelease: HTTP 401 Unauthorized`],
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assertNoSecret(r.stdout + r.stderr, "the error");
  });

  test("a lockfile written from such a mirror carries no credentials", async () => {
    const work = join(dir, "lockdir");
    mkdirSync(work);
    const spec = join(work, "shellfree.yaml");
    writeFileSync(spec, "name: l\narchitectures: [amd64]\npackages:\n  include: [hello]\n");
    const r = await shellfree(
      ["lock", "-f", spec, "--mirror", withCreds, "--keyring", keyring, "--cache-dir", join(dir, "c3")],
      { cwd: work },
    );
    assert.equal(r.code, 0, r.stderr);
    assertNoSecret(r.stdout + r.stderr, "lock's output");
    await assertNoSecretInTree(work);
    assert.match(readFileSync(join(work, "shellfree.lock"), "utf8"), /hello/);
  });
});

describe("apt's auth.conf.d", () => {
  test("a machine entry gives the credentials for a mirror URL without any", async () => {
    const etc = join(dir, "apt");
    mkdirSync(join(etc, "auth.conf.d"), { recursive: true });
    const host = new URL(archive.url).host;
    writeFileSync(
      join(etc, "auth.conf.d", "mirror.conf"),
      `# the test mirror\nmachine http://${host}/debian\nlogin ${USER}\npassword ${PASS}\n`,
    );
    archive.auths.length = 0;
    const r = await shellfree(
      ["resolve", "--mirror", archive.url, "--keyring", keyring, "--cache-dir", join(dir, "c4"), "hello"],
      { env: { SHELLFREE_APT_ETC: etc } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(archive.auths.length > 0 && archive.auths.every((a) => a === BASIC), "sent as Basic auth");
    assertNoSecret(r.stdout + r.stderr, "resolve's output");
  });

  test("an entry without protocol is for https only (as apt does): 401, one line", async () => {
    const etc = join(dir, "apt-https");
    mkdirSync(join(etc, "auth.conf.d"), { recursive: true });
    const host = new URL(archive.url).host;
    writeFileSync(join(etc, "auth.conf"), `machine ${host} login ${USER} password ${PASS}\n`);
    const r = await shellfree(
      ["resolve", "--mirror", archive.url, "--keyring", keyring, "--cache-dir", join(dir, "c5"), "hello"],
      { env: { SHELLFREE_APT_ETC: etc } },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(errorLines(r.stderr).join("\n"), /HTTP 401/);
    assertNoSecret(r.stdout + r.stderr, "the error");
  });
});

describe("credentials in an image reference", () => {
  for (const [cmd, args] of [
    ["push", (ref: string) => ["push", `oci:${join(dir, "none")}:v1`, ref]],
    ["pull", (ref: string) => ["pull", ref, "-o", `oci:${join(dir, "pulled")}`]],
  ] as const) {
    test(`${cmd} 'alice:pw@HOST/r:v1': one line, the password not echoed, nothing written`, async () => {
      const ref = "alice:pw-Secret9@127.0.0.1:9/r:v1";
      const r = await shellfree(args(ref));
      assert.equal(r.code, 2, r.stderr);
      assert.deepEqual(
        errorLines(r.stderr),
        [`shellfree: "***@127.0.0.1:9/r:v1": credentials do not belong in an image reference`],
        r.stderr,
      );
      assert.match(r.stderr, /^hint: give registry credentials with --creds/m);
      assert.ok(!(r.stdout + r.stderr).includes("pw-Secret9"), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
});
