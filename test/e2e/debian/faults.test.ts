/**
 * Fault injection against a signed fake archive served on 127.0.0.1: every failure gives its own
 * clear error and leaves the cache without a partial or unverified entry.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { type ArchiveOptions, loadRelease, loadUniverse } from "../../../src/debian/archive.ts";
import { fetchDebs } from "../../../src/debian/cache.ts";
import { extractDeb, readDeb } from "../../../src/debian/deb.ts";
import type { DebianError } from "../../../src/debian/errors.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";
import { ShellfreeError } from "../../../src/errors.ts";
import { setQuiet } from "../../../src/util/progress.ts";
import {
  type ArchiveSpec,
  type DebSpec,
  type FakeArchive,
  type FakeServer,
  fakeArchive,
  makeKey,
  serveArchive,
  sha256,
} from "../../fixtures/debian/fake-archive.ts";

process.env.SHELLFREE_RETRY_BASE_MS = "1";
setQuiet(true);

const root = mkdtempSync(join(tmpdir(), "sf-faults-"));
const keyringPath = join(root, "test-keyring.gpg");
let key: Awaited<ReturnType<typeof makeKey>>;
let cacheDir: string;
let n = 0;
const servers: FakeServer[] = [];

before(async () => {
  key = await makeKey();
  writeFileSync(keyringPath, key.keyring);
});
beforeEach(() => {
  cacheDir = join(root, `cache${n++}`);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
after(() => rmSync(root, { recursive: true, force: true }));

const PKGS: DebSpec[] = [
  { name: "hello", version: "1.0-1", fields: { Depends: "libgreet1 (>= 1.0)" } },
  { name: "libgreet1", version: "1:1.2-3", fields: { "Multi-Arch": "same" } },
  { name: "greet-data", version: "1.2-3", arch: "all", compression: "gz" },
];

async function archive(
  over: Partial<ArchiveSpec> = {},
): Promise<{ a: FakeArchive; s: FakeServer; opts: ArchiveOptions }> {
  const a = await fakeArchive({ suite: "testsuite", packages: PKGS, key: key.privateKey, ...over });
  const s = await serveArchive(a.files);
  servers.push(s);
  const opts: ArchiveOptions = {
    sources: [{ uri: s.url, suite: "testsuite", components: ["main"] }],
    arch: "amd64",
    keyring: keyringPath,
    cacheDir,
  };
  return { a, s, opts };
}

/** Every file under the cache dir, relative ("debs/sha256/<hex>", ...). */
function cacheFiles(): string[] {
  if (!existsSync(cacheDir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(cacheDir, p));
    }
  };
  walk(cacheDir);
  return out.sort();
}

/** Every cached .deb is named by the SHA256 of its content, and there is nothing else in debs/. */
function assertDebCacheSound(): string[] {
  const debs = cacheFiles().filter((f) => f.startsWith("debs/"));
  for (const f of debs) {
    assert.match(f, /^debs\/sha256\/[0-9a-f]{64}$/, `unexpected cache file ${f}`);
    assert.equal(sha256(readFileSync(join(cacheDir, f))), f.slice("debs/sha256/".length));
  }
  return debs;
}

const code = (c: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ShellfreeError, `expected a ShellfreeError, got ${e}`);
  assert.equal(e.code, c, e.message);
  assert.match(e.message, re);
  return true;
};

test("happy path: signed archive → universe → verified .debs in the cache → readDeb", async () => {
  const { a, s, opts } = await archive();
  const u = await loadUniverse(opts);
  assert.deepEqual(
    u.packages.map((p) => [p.name, p.version, p.architecture, p.multiArch ?? null]),
    [
      ["hello", "1.0-1", "amd64", null],
      ["libgreet1", "1:1.2-3", "amd64", "same"],
      ["greet-data", "1.2-3", "all", null],
    ],
  );
  const hello = u.packages[0];
  assert.equal(hello.depends, "libgreet1 (>= 1.0)");
  assert.equal(hello.source, opts.sources[0]);
  assert.match(hello.fields.Description, /^test package hello\n Long description line\./);
  assert.equal(s.hits.get("dists/testsuite/main/binary-amd64/Packages.gz"), 1);
  assert.equal(s.hits.get("dists/testsuite/main/binary-amd64/Packages.xz"), undefined, "gzip is preferred");
  const got = await fetchDebs(u.packages, { cacheDir, concurrency: 2 });
  assert.deepEqual(
    got.map((r) => [r.pkg.name, r.cached]),
    [
      ["hello", false],
      ["libgreet1", false],
      ["greet-data", false],
    ],
  );
  for (const r of got) assert.equal(r.path, join(cacheDir, "debs/sha256", a.debs.get(r.pkg.name)!.sha256));
  assert.equal(assertDebCacheSound().length, 3);
  const d = await readDeb(got[2].path);
  assert.equal(d.control.Package, "greet-data");
  assert.ok(d.entries.some((e) => e.path === "usr/bin/greet-data" && e.type === "file"));
  // second run: served from the cache, no index or .deb downloaded again
  const u2 = await loadUniverse(opts);
  assert.equal(u2.packages.length, 3);
  assert.equal(s.hits.get("dists/testsuite/main/binary-amd64/Packages.gz"), 1);
  const again = await fetchDebs(u2.packages, { cacheDir });
  assert.deepEqual(
    again.map((r) => r.cached),
    [true, true, true],
  );
  assert.equal(s.hits.get(a.debs.get("hello")!.filename), 1);
});

test("Release + Release.gpg fallback and by-hash index download", async () => {
  const { s, opts } = await archive({ detached: true, byHash: true });
  const rel = await loadRelease(opts.sources[0], opts);
  assert.equal(rel.codename, "testsuite");
  assert.equal(rel.signedBy.length, 1);
  assert.equal(s.hits.get("dists/testsuite/InRelease"), 1);
  assert.equal(s.hits.get("dists/testsuite/Release.gpg"), 1);
  const u = await loadUniverse(opts);
  assert.equal(u.packages.length, 3);
  assert.ok([...s.hits.keys()].some((p) => p.includes("/by-hash/SHA256/")));
  assert.equal(s.hits.get("dists/testsuite/main/binary-amd64/Packages.gz"), undefined);
});

test("Packages.gz missing on the mirror: falls back to Packages.xz (same packages, same fields)", async () => {
  const { s, opts } = await archive();
  const viaGz = JSON.parse(
    JSON.stringify((await loadUniverse({ ...opts, cacheDir: join(root, "via-gz") })).packages),
  );
  s.fault = (p) => (p.endsWith("Packages.gz") ? { status: 404 } : undefined);
  const u = await loadUniverse(opts);
  assert.equal(u.packages.length, 3);
  assert.equal(s.hits.get("dists/testsuite/main/binary-amd64/Packages.xz"), 1);
  assert.deepEqual(JSON.parse(JSON.stringify(u.packages)), viaGz);
});

test("tampered InRelease: E_SIGNATURE naming the file; nothing cached", async () => {
  const { a, s, opts } = await archive();
  const signed = a.files.get("dists/testsuite/InRelease")!.toString();
  const tampered = signed.replace("Label: Test", "Label: Evil");
  assert.notEqual(tampered, signed);
  s.fault = (p) => (p === "dists/testsuite/InRelease" ? { body: Buffer.from(tampered) } : undefined);
  await assert.rejects(
    loadUniverse(opts),
    code("E_SIGNATURE", /dists\/testsuite\/InRelease: no valid signature from a key in the keyring/),
  );
  assert.deepEqual(cacheFiles(), []);
});

test("InRelease signed by a key outside the keyring is refused", async () => {
  const stranger = await makeKey("stranger");
  const { opts } = await archive({ key: stranger.privateKey });
  await assert.rejects(loadUniverse(opts), code("E_SIGNATURE", /no valid signature/));
  assert.deepEqual(cacheFiles(), []);
});

test("missing keyring: a clear E_KEYRING", async () => {
  const { opts } = await archive();
  await assert.rejects(
    loadUniverse({ ...opts, keyring: join(root, "no-such-keyring.gpg") }),
    code("E_KEYRING", /cannot read keyring .*no-such-keyring\.gpg/),
  );
});

test("expired Valid-Until: E_EXPIRED says expired, when, names --allow-expired; allowed with allowExpired", async () => {
  const when = new Date(Date.now() - 3 * 86400_000);
  const { opts } = await archive({ validUntil: when });
  await assert.rejects(loadUniverse(opts), (e: unknown) => {
    code("E_EXPIRED", /InRelease expired: Valid-Until .* is in the past/)(e);
    assert.ok((e as DebianError).message.includes(when.toUTCString()));
    assert.match((e as DebianError).hint ?? "", /--allow-expired/);
    return true;
  });
  assert.deepEqual(
    cacheFiles().filter((f) => f.startsWith("indices/")),
    [],
  );
  const u = await loadUniverse({ ...opts, allowExpired: true });
  assert.equal(u.packages.length, 3);
});

test("Packages index whose hash mismatches the Release: E_HASH, nothing cached", async () => {
  for (const ext of ["gz", "xz"]) {
    const { a, s, opts } = await archive();
    const name = `dists/testsuite/main/binary-amd64/Packages.${ext}`;
    const good = a.files.get(name)!;
    const other = (
      await fakeArchive({ suite: "testsuite", packages: [PKGS[0]], key: key.privateKey })
    ).files.get(name)!;
    assert.notEqual(sha256(other), sha256(good));
    // (the xz round: the preferred .gz is missing)
    s.fault = (p) =>
      p.endsWith(`Packages.${ext}`)
        ? { body: other }
        : p.endsWith("Packages.gz")
          ? { status: 404 }
          : undefined;
    await assert.rejects(
      loadUniverse(opts),
      code("E_HASH", new RegExp(`Packages\\.${ext}: SHA256 mismatch \\(Release says [0-9a-f]{64}`)),
    );
    // bytes that do not even decompress are reported by their hash too
    s.fault = (p) =>
      p.endsWith(`Packages.${ext}`)
        ? { body: Buffer.alloc(good.length, 0x41) }
        : p.endsWith("Packages.gz")
          ? { status: 404 }
          : undefined;
    await assert.rejects(loadUniverse(opts), code("E_HASH", /SHA256 mismatch/));
    if (ext === "gz") {
      // a longer body is refused as soon as it passes the Release's size
      s.fault = (p) =>
        p.endsWith("Packages.gz") ? { body: Buffer.concat([good, Buffer.alloc(100)]) } : undefined;
      await assert.rejects(loadUniverse(opts), code("E_HASH", /larger than the Release says/));
      // a cut transfer is retried; one that stays cut ends in E_NETWORK
      s.fault = (p, nth) => (p.endsWith("Packages.gz") && nth <= 2 ? { truncateTo: 40 } : undefined);
      assert.equal((await loadUniverse({ ...opts, cacheDir: join(root, "cut-once") })).packages.length, 3);
      rmSync(join(root, "cut-once"), { recursive: true });
      s.fault = (p) => (p.endsWith("Packages.gz") ? { truncateTo: 40 } : undefined);
      await assert.rejects(loadUniverse(opts), code("E_NETWORK", /Packages\.gz failed after 4 attempts/));
    }
    assert.deepEqual(
      cacheFiles().filter((f) => f.startsWith("indices/")),
      [],
    );
  }
});

async function universe(opts: ArchiveOptions): Promise<BinaryPackage[]> {
  return (await loadUniverse(opts)).packages;
}

test(".deb with a wrong SHA256: E_HASH, no cache entry and no temp file", async () => {
  const { a, s, opts } = await archive();
  const pk = await universe(opts);
  const hello = a.debs.get("hello")!;
  s.fault = (p) => (p === hello.filename ? { body: Buffer.alloc(hello.deb.length, 0x41) } : undefined);
  await assert.rejects(
    fetchDebs([pk[0]], { cacheDir }),
    code(
      "E_HASH",
      /hello_1\.0-1_amd64\.deb: SHA256 mismatch \(index says [0-9a-f]{64}, downloaded [0-9a-f]{64}\)/,
    ),
  );
  assert.deepEqual(assertDebCacheSound(), []);
  // a longer body is stopped as soon as it passes the indexed size
  s.fault = (p) =>
    p === hello.filename ? { body: Buffer.concat([hello.deb, Buffer.alloc(10)]) } : undefined;
  await assert.rejects(fetchDebs([pk[0]], { cacheDir }), code("E_HASH", /larger than the index says/));
  assert.deepEqual(assertDebCacheSound(), []);
});

test("truncated download: retried; when it stays truncated, E_NETWORK and nothing cached", async () => {
  const { a, s, opts } = await archive();
  const pk = await universe(opts);
  const hello = a.debs.get("hello")!;
  s.fault = (p, nth) => (p === hello.filename && nth === 1 ? { truncateTo: 100 } : undefined);
  const [r] = await fetchDebs([pk[0]], { cacheDir });
  assert.equal(s.hits.get(hello.filename), 2);
  assert.equal(sha256(readFileSync(r.path)), hello.sha256);
  const lib = a.debs.get("libgreet1")!;
  s.fault = (p) => (p === lib.filename ? { truncateTo: 100 } : undefined);
  await assert.rejects(
    fetchDebs([pk[1]], { cacheDir }),
    code("E_NETWORK", /libgreet1.*failed after 4 attempts/),
  );
  assert.equal(s.hits.get(lib.filename), 4);
  assert.deepEqual(assertDebCacheSound(), [`debs/sha256/${hello.sha256}`]);
});

test("HTTP 500 then success: retried transparently (index and .deb)", async () => {
  const { a, s, opts } = await archive();
  s.fault = (p, nth) =>
    nth === 1 && (p.endsWith("Packages.gz") || p.endsWith(".deb")) ? { status: 500 } : undefined;
  const pk = await universe(opts);
  assert.equal(s.hits.get("dists/testsuite/main/binary-amd64/Packages.gz"), 2);
  const got = await fetchDebs(pk, { cacheDir });
  assert.equal(got.length, 3);
  for (const d of a.debs.values()) assert.equal(s.hits.get(d.filename), 2);
  assert.equal(assertDebCacheSound().length, 3);
});

test("HTTP 404: a clear E_NOT_FOUND for a .deb and for a suite; nothing cached", async () => {
  const { a, s, opts } = await archive();
  const pk = await universe(opts);
  s.fault = (p) => (p === a.debs.get("hello")!.filename ? { status: 404 } : undefined);
  await assert.rejects(
    fetchDebs(pk, { cacheDir }),
    code("E_NOT_FOUND", /GET .*hello_1\.0-1_amd64\.deb: HTTP 404/),
  );
  assert.equal(s.hits.get(a.debs.get("hello")!.filename), 1, "a 404 is not retried");
  for (const f of assertDebCacheSound()) assert.notEqual(f, `debs/sha256/${a.debs.get("hello")!.sha256}`);
  await assert.rejects(
    loadUniverse({ ...opts, sources: [{ uri: s.url, suite: "nosuchsuite", components: ["main"] }] }),
    code("E_NOT_FOUND", /suite nosuchsuite not found on http:\/\/127\.0\.0\.1:\d+\/debian/),
  );
  await assert.rejects(
    loadUniverse({ ...opts, sources: [{ uri: s.url, suite: "testsuite", components: ["contrib"] }] }),
    code("E_INDEX", /does not list contrib\/binary-amd64\/Packages/),
  );
});

test("a .deb with ../ in its data tar: verified download, but reading it is E_DEB and extraction leaves nothing", async () => {
  const { opts } = await archive({
    packages: [
      {
        name: "evil",
        version: "1",
        data: [
          { name: "./", type: "directory" },
          { name: "./usr/../../etc/evil", data: "pwned\n" },
        ],
      },
    ],
  });
  const pk = await universe(opts);
  const [r] = await fetchDebs(pk, { cacheDir });
  assert.equal(sha256(readFileSync(r.path)), pk[0].sha256);
  await assert.rejects(readDeb(r.path), code("E_DEB", /path traversal "\.\/usr\/\.\.\/\.\.\/etc\/evil"/));
  const out = join(root, "evil-extract");
  await assert.rejects(extractDeb(r.path, out), code("E_DEB", /path traversal/));
  assert.equal(existsSync(out), false);
  assert.deepEqual(
    readdirSync(root).filter((f) => f.includes("evil-extract")),
    [],
  );
  assert.ok(statSync(r.path).isFile());
});

test("concurrent processes sharing one cache: all succeed, each entry is whole and verified", async () => {
  const { a, s, opts } = await archive();
  const pk = await universe(opts);
  // every .deb is answered only once all three processes have asked for it: the downloads overlap
  s.fault = (p) => (p.endsWith(".deb") ? { barrier: 3, timeoutMs: 20_000 } : undefined);
  const { spawn } = await import("node:child_process");
  const src = new URL("../../../src/", import.meta.url).pathname;
  const script = `
    import { fetchDebs } from ${JSON.stringify(`${src}debian/cache.ts`)};
    import { setQuiet } from ${JSON.stringify(`${src}util/progress.ts`)};
    setQuiet(true);
    const r = await fetchDebs(JSON.parse(process.env.PKGS), { cacheDir: process.env.CACHE, concurrency: 3 });
    process.stdout.write(JSON.stringify(r.map((x) => x.path)));
  `;
  const run = () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(process.execPath, ["--input-type=module", "-e", script], {
        env: { ...process.env, PKGS: JSON.stringify(pk), CACHE: cacheDir },
      });
      let out = "";
      let err = "";
      c.stdout.on("data", (d) => (out += d));
      c.stderr.on("data", (d) => (err += d));
      const timer = setTimeout(() => c.kill("SIGKILL"), 60_000);
      c.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  const results = await Promise.all([run(), run(), run()]);
  for (const r of results) {
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      JSON.parse(r.out),
      pk.map((p) => join(cacheDir, "debs/sha256", p.sha256)),
    );
  }
  // no process saw a cache hit: every one downloaded and renamed every entry itself
  for (const d of a.debs.values()) assert.equal(s.hits.get(d.filename), 3);
  assert.equal(assertDebCacheSound().length, 3);
});

test("an unreachable mirror: E_NETWORK after retries, naming the URL, with a hint", async () => {
  const { opts } = await archive();
  const { createServer } = await import("node:net");
  // a port that was free a moment ago and has nothing listening now
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const uri = `http://127.0.0.1:${port}/debian`;
  await assert.rejects(
    loadUniverse({ ...opts, sources: [{ uri, suite: "testsuite", components: ["main"] }] }),
    (e: unknown) => {
      code("E_NETWORK", new RegExp(`GET ${uri}/dists/testsuite/InRelease failed after 4 attempts`))(e);
      assert.match((e as ShellfreeError).hint ?? "", /mirror/);
      return true;
    },
  );
  assert.deepEqual(cacheFiles(), []);
});

test("cold loads prune parsed indices unused for two weeks; indices in use are kept", async () => {
  const { opts } = await archive();
  await loadUniverse(opts);
  const dir = join(cacheDir, "indices", "sha256");
  const inUse = readdirSync(dir).sort();
  assert.equal(inUse.length, 2);
  const { utimesSync } = await import("node:fs");
  const old = new Date(Date.now() - 30 * 86400_000);
  for (const f of inUse) utimesSync(join(dir, f), old, old);
  await loadUniverse(opts); // warm: marks the two files used again
  writeFileSync(join(dir, `${"0".repeat(64)}.v2.idx`), "stale");
  utimesSync(join(dir, `${"0".repeat(64)}.v2.idx`), old, old);
  // a cold load of another archive (new index) prunes the stale entry only
  const other = await archive({ packages: [PKGS[0]] });
  await loadUniverse(other.opts);
  const after = readdirSync(dir);
  for (const f of inUse) assert.ok(after.includes(f), `${f} was pruned`);
  assert.equal(after.includes(`${"0".repeat(64)}.v2.idx`), false);
  assert.equal(after.length, 4);
});

test("a validly signed Release of another suite is refused (no suite replay)", async () => {
  const { a, s, opts } = await archive();
  s.fault = (p) =>
    p === "dists/othersuite/InRelease" ? { body: a.files.get("dists/testsuite/InRelease")! } : undefined;
  await assert.rejects(
    loadUniverse({ ...opts, sources: [{ uri: s.url, suite: "othersuite", components: ["main"] }] }),
    code(
      "E_INDEX",
      /dists\/othersuite\/InRelease: is for suite testsuite \(codename testsuite\), not othersuite/,
    ),
  );
  assert.deepEqual(
    cacheFiles().filter((f) => f.startsWith("indices/")),
    [],
  );
});

test("Release without InRelease and without Release.gpg is refused as unsigned", async () => {
  const { s, opts } = await archive({ detached: true });
  s.fault = (p) => (p === "dists/testsuite/Release.gpg" ? { status: 404 } : undefined);
  await assert.rejects(loadUniverse(opts), code("E_SIGNATURE", /dists\/testsuite\/Release: unsigned/));
  assert.deepEqual(cacheFiles(), []);
});
