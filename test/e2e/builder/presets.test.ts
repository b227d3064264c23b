/**
 * Every preset on bookworm and trixie (amd64), from the real archive: each resolves and builds
 * with the suite's own package names (libssl3 vs libssl3t64, python3.11 vs python3.13). The
 * python preset — distroless python3-debian12/-debian13 — is then run under runc: ssl, sqlite3,
 * zoneinfo (tzdata) and ctypes work with the image's own python as UID 65532 on a read-only
 * root, there is no pip or ensurepip, every .py has a checked hash-based .pyc that the
 * interpreter uses without writing anything, the image is at most 55 MiB uncompressed, and
 * two builds from cold caches give the same digest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runOnce, unpackBundle } from "../../helpers/runc.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, shellfree } from "./common.ts";

const MiB = 1024 * 1024;

interface BytecodeJson {
  status: string;
  files: number;
  failed: unknown[];
  mode: string;
  compiler?: string;
}

async function buildPreset(
  preset: string,
  suite: string,
  out: string,
  cacheDir = CACHE,
): Promise<BuildJson & { architectures: Array<{ bytecode?: BytecodeJson }> }> {
  const r = await shellfree(
    [
      "build",
      "--preset",
      preset,
      "--suite",
      suite,
      "--arch",
      "amd64",
      "--output",
      `oci:${out}`,
      "--cache-dir",
      cacheDir,
      "--no-sbom",
      "--json",
    ],
    { timeoutMs: 600_000 },
  );
  mustSucceed(r, `build --preset ${preset} --suite ${suite}`);
  return JSON.parse(r.stdout);
}

describe("presets on bookworm and trixie", () => {
  let dir = "";
  before(async () => {
    dir = await tempDir("shellfree-presets-");
  });
  after(() => (dir ? removeDir(dir) : undefined));

  const want: Record<string, Record<string, string[]>> = {
    bookworm: {
      static: ["base-files", "tzdata", "ca-certificates", "netbase"],
      base: ["libc6", "libssl3"],
      cc: ["libc6", "libssl3", "libstdc++6", "libgomp1"],
      node: ["libc6", "libstdc++6"],
      python: [
        "libc6",
        "python3",
        "python3.11-minimal",
        "libpython3.11-stdlib",
        "libssl3",
        "libsqlite3-0",
        "libffi8",
      ],
    },
    trixie: {
      static: ["base-files", "tzdata", "ca-certificates", "netbase"],
      base: ["libc6", "libssl3t64"],
      cc: ["libc6", "libssl3t64", "libstdc++6", "libgomp1"],
      node: ["libc6", "libstdc++6"],
      python: [
        "libc6",
        "python3",
        "python3.13-minimal",
        "libpython3.13-stdlib",
        "libssl3t64",
        "libsqlite3-0",
        "libffi8",
      ],
    },
  };

  for (const suite of ["bookworm", "trixie"]) {
    for (const preset of ["static", "base", "cc", "node", "python"]) {
      test(`${preset} on ${suite}: resolves and builds with the suite's package names`, async () => {
        const j = await buildPreset(preset, suite, join(dir, `${preset}-${suite}`));
        const a = j.architectures[0];
        const names = a.packages.map((p) => p.name);
        for (const p of want[suite][preset]) assert.ok(names.includes(p), `${p} in ${names.join(" ")}`);
        const other = suite === "bookworm" ? "libssl3t64" : "libssl3";
        assert.ok(!names.includes(other), `no ${other} on ${suite}`);
        const bf = a.packages.find((p) => p.name === "base-files")?.version ?? "";
        assert.match(bf, suite === "bookworm" ? /^12\./ : /^13\./);
        if (preset === "python") {
          assert.match(a.bytecode?.status ?? "", /^(compiled|cached)$/);
          assert.equal(a.bytecode?.mode, "checked-hash");
          assert.ok((a.bytecode?.files ?? 0) > 500, `${a.bytecode?.files} .pyc`);
          assert.ok(
            a.uncompressedSize <= 55 * MiB,
            `${(a.uncompressedSize / MiB).toFixed(1)} MiB uncompressed (≤ 55 MiB)`,
          );
        } else assert.equal(a.bytecode, undefined, "no CPython, no bytecode step");
      });
    }

    test(`python on ${suite}: ssl, sqlite3, zoneinfo, ctypes under runc; no pip; its bytecode used`, async () => {
      const bundle = await unpackBundle(
        `${join(dir, `python-${suite}`)}:latest`,
        join(dir, `bundle-${suite}`),
      );
      const script = [
        "import ssl, sqlite3, zoneinfo, ctypes, ctypes.util, datetime, importlib.util, sys, os",
        "ctx = ssl.create_default_context()",
        "print('ssl', ssl.OPENSSL_VERSION.split()[0], ctx.cert_store_stats()['x509_ca'] > 100)",
        "print('sqlite3', sqlite3.connect(':memory:').execute('select 40 + 2').fetchone()[0])",
        "t = datetime.datetime(2026, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo('Europe/Berlin'))",
        "print('zoneinfo', t.utcoffset())",
        "print('ctypes', ctypes.CDLL('libc.so.6').abs(-7))",
        "print('pip', importlib.util.find_spec('pip'), importlib.util.find_spec('ensurepip'))",
        "print('user', os.getuid(), sys.executable)",
      ].join("\n");
      const r = await runOnce(bundle, {
        args: ["/usr/bin/python3", "-c", script],
        user: { uid: 65532, gid: 65532 },
        network: "none",
      });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.deepEqual(lines, [
        "ssl OpenSSL True",
        "sqlite3 42",
        "zoneinfo 2:00:00",
        "ctypes 7",
        "pip None None",
        `user 65532 /usr/bin/python3`,
      ]);
      // -v names every module it loads from bytecode; nothing is written (read-only root) or stale
      const v = await runOnce(bundle, {
        args: ["/usr/bin/python3", "-v", "-c", "import json, email.message, asyncio"],
        user: { uid: 65532, gid: 65532 },
        network: "none",
      });
      assert.equal(v.code, 0, v.stderr.slice(-2000));
      const fromPyc = v.stderr.split("\n").filter((l) => l.startsWith("# code object from "));
      assert.ok(fromPyc.length > 50, `${fromPyc.length} modules from .pyc`);
      // a module compiled from source would try to write its .pyc: "could not create" on a read-only root
      assert.ok(!/could not create|bytecode is stale/.test(v.stderr), v.stderr.slice(-1500));
    });
  }

  test("python: two builds from cold caches give the same digest", async () => {
    const a = await buildPreset("python", "trixie", join(dir, "repro-a"), join(dir, "cache-a"));
    const b = await buildPreset("python", "trixie", join(dir, "repro-b"), join(dir, "cache-b"));
    assert.equal(a.digest, b.digest);
    assert.equal(a.architectures[0].bytecode?.status, "compiled");
    assert.equal(b.architectures[0].bytecode?.status, "compiled", "the second build compiled again");
  });
});
