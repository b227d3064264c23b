/**
 * Real .debs from the mirror: fetched into the verified cache and read back, compared with
 * dpkg-deb; and the `shellfree fetch` / `shellfree debian extract` commands end to end.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { loadUniverse } from "../../../src/debian/archive.ts";
import { fetchDebs } from "../../../src/debian/cache.ts";
import { readDeb } from "../../../src/debian/deb.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";
import { setQuiet } from "../../../src/util/progress.ts";
import { shellfree } from "../../helpers/cli.ts";
import { archiveOptions, TEST_CACHE } from "../../helpers/mirror.ts";

setQuiet(true);
const tmp = mkdtempSync(join(tmpdir(), "sf-fetch-e2e-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function pick(pkgs: BinaryPackage[], names: string[]): BinaryPackage[] {
  return names.map((n) => {
    const p = pkgs.find((x) => x.name === n);
    assert.ok(p, `${n} not in the universe`);
    return p;
  });
}

/** dpkg-deb's view of a .deb: data entry names (normalized like ours). */
function dpkgEntries(deb: string): string[] {
  const tarData = spawnSync("dpkg-deb", ["--fsys-tarfile", deb], { maxBuffer: 1 << 30 });
  assert.equal(tarData.status, 0, String(tarData.stderr));
  const list = spawnSync("tar", ["-t"], { input: tarData.stdout, maxBuffer: 1 << 28, encoding: "utf8" });
  return list.stdout
    .split("\n")
    .filter((s) => s && s !== "./")
    .map((s) => s.replace(/^\.\//, "").replace(/\/$/, ""));
}

test("fetch real amd64 .debs into the cache and read them like dpkg-deb does", async () => {
  const u = await loadUniverse(archiveOptions("trixie", "amd64"));
  const pkgs = pick(u.packages, ["base-files", "libc6", "tzdata", "libzstd1", "ca-certificates"]);
  const got = await fetchDebs(pkgs, { cacheDir: TEST_CACHE, concurrency: 4 });
  assert.deepEqual(
    got.map((r) => r.pkg.name),
    pkgs.map((p) => p.name),
  );
  for (const r of got) {
    assert.equal(r.path, join(TEST_CACHE, "debs", "sha256", r.pkg.sha256));
    assert.equal(sha256(readFileSync(r.path)), r.pkg.sha256);
    const d = await readDeb(r.path);
    assert.equal(d.control.Package, r.pkg.name);
    assert.equal(d.control.Version, r.pkg.version);
    assert.equal(d.control.Architecture, r.pkg.architecture);
    assert.ok(d.controlFiles.has("md5sums"), `${r.pkg.name} has no md5sums`);
    assert.deepEqual(
      d.entries.map((e) => e.path),
      dpkgEntries(r.path),
      `${r.pkg.name}: entry list differs from dpkg-deb`,
    );
    // every file's content matches the md5sums the package ships
    const md5 = new Map(
      Buffer.from(d.controlFiles.get("md5sums")!)
        .toString()
        .split("\n")
        .filter(Boolean)
        .map((l) => [l.slice(34), l.slice(0, 32)] as const),
    );
    for (const e of d.entries) {
      if (e.type !== "file") continue;
      assert.equal(e.data?.length, e.size);
      const want = md5.get(e.path);
      if (want) assert.equal(createHash("md5").update(e.data!).digest("hex"), want, e.path);
    }
  }
  const libc = await readDeb(got[1].path, { data: false });
  assert.ok(libc.entries.some((e) => e.path === "usr/lib/x86_64-linux-gnu/libc.so.6"));
  const bf = await readDeb(got[0].path, { data: false });
  const osr = bf.entries.find((e) => e.path === "etc/os-release");
  assert.equal(osr?.type, "symlink");
  // a second fetch is served from the cache
  const again = await fetchDebs(pkgs, { cacheDir: TEST_CACHE });
  assert.ok(again.every((r) => r.cached));
});

test("fetch and read a real arm64 .deb", async () => {
  const u = await loadUniverse(archiveOptions("trixie", "arm64"));
  const [r] = await fetchDebs(pick(u.packages, ["libc6"]), { cacheDir: TEST_CACHE });
  const d = await readDeb(r.path, { data: false });
  assert.equal(d.control.Architecture, "arm64");
  assert.ok(d.entries.some((e) => e.path === "usr/lib/aarch64-linux-gnu/libc.so.6"));
});

const cli = (args: string[]) => shellfree(args, { env: { SHELLFREE_QUIET: "1" }, timeoutMs: 300_000 });

test("shellfree fetch: the closure lands in --out as verified name_version_arch.deb files", async () => {
  const out = join(tmp, "out");
  const args = [
    "fetch",
    "--suite",
    "trixie",
    "--arch",
    "amd64",
    "--cache-dir",
    TEST_CACHE,
    "ca-certificates",
    "--out",
    out,
  ];
  const r = await cli([...args, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    count: number;
    bytes: number;
    cacheHits: number;
    packages: Array<{
      name: string;
      version: string;
      architecture: string;
      file: string;
      sha256: string;
      size: number;
    }>;
  };
  assert.ok(j.count >= 3, `closure of ca-certificates has ${j.count} packages`);
  assert.deepEqual(readdirSync(out).sort(), j.packages.map((p) => p.file).sort());
  for (const p of j.packages) {
    assert.equal(p.file, `${p.name}_${p.version.replace(":", "%3a")}_${p.architecture}.deb`);
    const b = readFileSync(join(out, p.file));
    assert.equal(b.length, p.size);
    assert.equal(sha256(b), p.sha256);
  }
  assert.ok(j.packages.some((p) => p.name === "ca-certificates"));
  assert.equal(
    j.bytes,
    j.packages.reduce((s, p) => s + p.size, 0),
  );
  // the second run is served entirely from the cache; the text summary says so
  const again = await cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stdout,
    new RegExp(`^${j.count} packages, .* \\(${j.count} from the cache, 0 downloaded\\)`),
  );
});

test("shellfree fetch: an unknown package fails with one clear line and exit 1", async () => {
  const r = await cli([
    "fetch",
    "--cache-dir",
    TEST_CACHE,
    "no-such-package-xyz",
    "--out",
    join(tmp, "none"),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^shellfree: .*no-such-package-xyz/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});

test("shellfree debian extract: same tree as dpkg-deb -x", async () => {
  const u = await loadUniverse(archiveOptions("trixie", "amd64"));
  const [r] = await fetchDebs(pick(u.packages, ["base-files"]), { cacheDir: TEST_CACHE });
  const ours = join(tmp, "ours");
  const x = await cli(["debian", "extract", r.path, "--out", ours, "--json"]);
  assert.equal(x.code, 0, x.stderr);
  assert.equal(JSON.parse(x.stdout).package, "base-files");
  const theirs = join(tmp, "theirs");
  const d = spawnSync("dpkg-deb", ["-x", r.path, theirs]);
  assert.equal(d.status, 0, String(d.stderr));
  const walk = (base: string) => {
    const out: string[] = [];
    const rec = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        const st = lstatSync(p);
        const rel = relative(base, p);
        const what = st.isSymbolicLink()
          ? `link ${readlinkSync(p)}`
          : st.isDirectory()
            ? "dir"
            : `file ${sha256(readFileSync(p))}`;
        out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${what}`);
        if (st.isDirectory()) rec(p);
      }
    };
    rec(base);
    return out.sort();
  };
  assert.deepEqual(walk(ours), walk(theirs));
});
