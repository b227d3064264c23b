/** The init bundle: one self-contained file, deterministic bytes, Node built-ins only. */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { bundleInit } from "../../../src/build/init-bundle.ts";
import { NODE, tempDir } from "./helpers.ts";

const ROOT = join(import.meta.dirname, "../../..");
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("bundleInit", () => {
  test("memoized, and the same bytes from a fresh process", async () => {
    const a = await bundleInit();
    assert.equal(await bundleInit(), a, "memoized");
    const out = execFileSync(
      NODE,
      [
        "--input-type=module",
        "-e",
        [
          "const { bundleInit } = await import('./src/build/init-bundle.ts');",
          "const { createHash } = await import('node:crypto');",
          "process.stdout.write(createHash('sha256').update(await bundleInit()).digest('hex'));",
        ].join(" "),
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(out, sha(a));
  });

  test("requires only Node built-ins, names no build paths, no source map", async () => {
    const text = Buffer.from(await bundleInit()).toString("utf8");
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    assert.ok(required.length > 0);
    for (const r of required)
      assert.ok(builtinModules.includes(r.replace(/^node:/, "")), `non-builtin require ${r}`);
    assert.equal(/import\s*\(\s*["'](?!node:)/.test(text), false, "no dynamic import of files");
    assert.equal(text.includes(ROOT), false, "no absolute build path");
    assert.equal(text.includes("sourceMappingURL"), false);
    assert.match(text, /^\/\* shellfree-init \d+\.\d+\.\d+/);
  });

  test("runs standalone from any directory (nothing beside it)", async () => {
    using d = tempDir();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(d.path, "init.js"), await bundleInit());
    const r = spawnSync(NODE, [join(d.path, "init.js"), "--version"], { cwd: "/", encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^shellfree-init \d+\.\d+\.\d+\n$/);
  });
});
