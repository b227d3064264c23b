/**
 * However the layers are read — several at once with their decoders running ahead (the default),
 * one after another, or each decompressed whole first with zlib's one-shot functions — the
 * report of an image with many layers, whiteouts, opaque directories, overwrites, ELF files and
 * files larger than a decoder chunk is the same.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { openImage } from "../../../src/oci/index.ts";
import { blobPath } from "../../../src/oci/layout.ts";
import { type VerifyReport, verifyImage, verifyRef } from "../../../src/verify/verify.ts";
import { type ImageFile, type LayerSpec, makeImage } from "../../helpers/images.ts";
import { makeElf, SHELL_STRINGS } from "./helpers.ts";

const dir = await mkdtemp(join(tmpdir(), "shellfree-layers-read-"));
after(() => rm(dir, { recursive: true, force: true }));
const NOW = new Date("2026-01-01T00:00:00Z");

/** bytes that compress poorly, so that one file spans many decoder chunks */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function layers(): LayerSpec[] {
  const out: LayerSpec[] = [];
  for (let i = 0; i < 16; i++) {
    const files: ImageFile[] = [
      { path: `/data/l${i}/file.txt`, data: `layer ${i}\n`.repeat(40 + i) },
      { path: "/data/shared/over.txt", data: `overwritten by ${i}\n`.repeat(i + 1) },
    ];
    if (i % 3 === 0 && i > 0) files.push({ path: `/data/l${i - 1}/.wh.file.txt`, data: "" });
    if (i % 4 === 1) files.push({ path: "/data/shared/.wh..wh..opq", data: "" });
    if (i === 2) files.push({ path: "/root/.ssh/id_rsa", data: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n" });
    if (i === 3) {
      // a shell whose signature strings sit past the first decoder chunks
      const elf = makeElf({ interp: "/lib64/ld-linux-x86-64.so.2", needed: ["libc.so.6"] });
      files.push({
        path: "/usr/bin/sh",
        data: Buffer.concat([elf, noise(700_000, 3), Buffer.from(SHELL_STRINGS)]),
        mode: 0o755,
      });
      files.push({
        path: "/usr/bin/dash",
        data: Buffer.concat([elf, Buffer.from(SHELL_STRINGS)]),
        mode: 0o755,
      });
    }
    if (i === 5)
      files.push({
        path: "/usr/lib/x86_64-linux-gnu/libc.so.6",
        data: makeElf({ type: 3, soname: "libc.so.6" }),
      });
    if (i === 6) files.push({ path: "/usr/bin/.wh.dash", data: "" });
    if (i === 7)
      files.push({
        path: "/opt/app",
        data: makeElf({ interp: "/lib64/ld-linux-x86-64.so.2", needed: ["libc.so.6", "libmissing.so.1"] }),
        mode: 0o4755,
      });
    if (i === 8)
      files.push(
        { path: "/opt/big.bin", data: noise(2_500_000, 8) },
        { path: "/opt/run.sh", data: "#!/bin/sh\necho\n", mode: 0o755 },
      );
    if (i === 10)
      files.push({ path: "/opt/.wh.big.bin", data: "" }, { path: "/tmp/ww", data: "x", mode: 0o666 });
    if (i === 12)
      files.push({
        path: "/etc/os-release",
        data: 'ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n',
      });
    out.push({ files, symlinks: i === 1 ? [{ path: "/lib64", target: "usr/lib/x86_64-linux-gnu" }] : [] });
  }
  return out;
}

function same(r: VerifyReport): Omit<VerifyReport, "durationMs"> {
  const { durationMs: _, ...rest } = r;
  return rest;
}

for (const compression of ["gzip", "zstd"] as const) {
  test(`${compression}: many layers read at once, one by one, or decompressed whole give the same report`, async () => {
    const { ref } = await makeImage(join(dir, compression), {
      files: [{ path: "/etc/passwd", data: "root:x:0:0::/root:/sbin/nologin\n" }],
      layers: layers(),
      compression,
      config: { entrypoint: ["/opt/app"], user: "0" },
    });
    const parallel = await verifyRef(ref, { now: NOW });
    const oneByOne = await verifyRef(ref, { now: NOW, layerConcurrency: 1 });

    const img = await openImage(ref);
    const layoutDir = ref.slice("oci:".length, ref.lastIndexOf(":"));
    const whole = await verifyImage(
      {
        ref,
        config: img.config,
        manifestDigest: img.manifestDigest,
        platform: "linux/amd64",
        layers: img.layers.map((l) => ({
          digest: l.digest,
          open: async () => {
            const raw = await readFile(blobPath(layoutDir, l.digest));
            return Readable.from([compression === "gzip" ? gunzipSync(raw) : zstdDecompressSync(raw)]);
          },
        })),
      },
      { now: NOW, layerConcurrency: 1 },
    );
    await img.close();

    assert.equal(parallel.stats.layers, 17);
    const rules = new Set(parallel.findings.map((f) => f.rule));
    for (const r of ["no-shell", "secrets", "no-setuid", "world-writable", "elf-deps", "wasted-bytes"])
      assert.ok(rules.has(r), `${r} has findings: ${[...rules].join(", ")}`);
    assert.ok(parallel.stats.wastedBytes > 2_500_000, "the whited-out big file counts as wasted");
    assert.deepEqual(same(oneByOne), same(parallel));
    assert.deepEqual(same(whole), same(parallel));
  });
}
