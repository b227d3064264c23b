import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { debCachePath, debUrl, fetchDebs } from "../../../src/debian/cache.ts";
import { DebianError } from "../../../src/debian/errors.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";
import { defaultCacheDir } from "../../../src/util/cache-dir.ts";

const tmp = mkdtempSync(join(tmpdir(), "sf-cache-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function pkg(name: string, sha256: string, size: number): BinaryPackage {
  return {
    name,
    version: "1",
    architecture: "amd64",
    essential: false,
    depends: "",
    preDepends: "",
    recommends: "",
    provides: "",
    conflicts: "",
    breaks: "",
    filename: `pool/main/${name}.deb`,
    size,
    sha256,
    // port 9 on loopback: nothing listens, so any attempt to download would fail
    source: { uri: "http://127.0.0.1:9/debian/", suite: "s", components: ["main"] },
    fields: {},
  };
}

test("defaultCacheDir: $XDG_CACHE_HOME/shellfree, else ~/.cache/shellfree", () => {
  const old = process.env.XDG_CACHE_HOME;
  try {
    process.env.XDG_CACHE_HOME = "/x/cache";
    assert.equal(defaultCacheDir(), "/x/cache/shellfree");
    delete process.env.XDG_CACHE_HOME;
    assert.equal(defaultCacheDir(), join(homedir(), ".cache", "shellfree"));
  } finally {
    if (old === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = old;
  }
});

test("cache paths are content-addressed; URLs join the source URI and Filename", () => {
  const p = pkg("a", "0".repeat(64), 3);
  assert.equal(debCachePath("/c", p.sha256), `/c/debs/sha256/${"0".repeat(64)}`);
  assert.equal(debUrl(p), "http://127.0.0.1:9/debian/pool/main/a.deb");
});

test("fetchDebs serves cached entries without the network, in input order", async () => {
  const dir = join(tmp, "debs", "sha256");
  mkdirSync(dir, { recursive: true });
  const a = pkg("a", "a".repeat(64), 3);
  const b = pkg("b", "b".repeat(64), 5);
  writeFileSync(join(dir, a.sha256), "aaa");
  writeFileSync(join(dir, b.sha256), "bbbbb");
  const got = await fetchDebs([b, a], { cacheDir: tmp });
  assert.deepEqual(
    got.map((r) => [r.pkg.name, r.path, r.cached]),
    [
      ["b", join(dir, b.sha256), true],
      ["a", join(dir, a.sha256), true],
    ],
  );
});

test("fetchDebs rejects an index entry with an invalid SHA256 before any download", async () => {
  await assert.rejects(
    fetchDebs([pkg("x", "../../etc/passwd", 1)], { cacheDir: tmp }),
    (e: unknown) => e instanceof DebianError && e.code === "E_INDEX" && /invalid SHA256/.test(e.message),
  );
});
