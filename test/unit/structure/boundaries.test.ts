/**
 * The layout's two rules, checked on the tree (docs/design.md, "Layout"):
 * - a subsystem (a folder of src/) imports another only through its index.ts: biome's
 *   noRestrictedImports, configured in biome.json — shown here to refuse a deep import;
 * - data flows one way (spec → debian/python → builder → oci → verify/runtime/sign/outdated;
 *   formats, util and errors are leaves): the imports between folders are those ALLOWED lists.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tmp.ts";

/** Which subsystems each may import (besides itself). A folder missing here is a violation. */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  util: ["errors"],
  formats: [],
  init: [],
  spec: ["errors"],
  debian: ["errors", "util"],
  python: ["errors", "util"],
  oci: ["errors", "util", "formats"],
  builder: ["errors", "util", "formats", "init", "spec", "debian", "python", "oci"],
  verify: ["errors", "util", "formats", "oci"],
  runtime: ["errors", "util", "formats", "oci"],
  sign: ["errors", "util", "oci"],
  outdated: ["errors", "util", "formats", "spec", "debian", "builder", "oci"],
  cli: [
    "errors",
    "util",
    "formats",
    "init",
    "spec",
    "debian",
    "python",
    "builder",
    "oci",
    "verify",
    "runtime",
    "sign",
    "outdated",
  ],
};

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g;

/** The subsystem of a path relative to src/ ("oci/read/open.ts" → "oci", "errors.ts" → "errors"). */
function subsystemOf(path: string): string {
  return path.split("/")[0].replace(/\.ts$/, "");
}

/** Imports between subsystems that ALLOWED does not list: "from → to (file)". */
function flowViolations(files: Map<string, string>, allowed: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const from = subsystemOf(file);
    for (const match of text.matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), match[1]));
      if (target.startsWith("..")) continue; // outside src/ (package.json)
      const to = subsystemOf(target);
      if (to === from) continue;
      if (!allowed[from]?.includes(to)) out.push(`${from} → ${to} (${file})`);
    }
  }
  return out.sort();
}

function sourceFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".ts")) out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

describe("data flows one way", () => {
  test("the tree's imports between subsystems are the allowed ones", () => {
    assert.deepEqual(flowViolations(sourceFiles(join(ROOT, "src")), ALLOWED), []);
  });

  test("the check finds a backward import, an import of an unlisted folder, and a dynamic one", () => {
    const files = new Map([
      ["oci/read/open.ts", 'import { build } from "../../builder/index.ts";\nimport { x } from "./ok.ts";'],
      ["oci/ok.ts", 'import type { A } from "../formats/index.ts";\nexport const u = "../debian/x.ts";'],
      ["newthing/a.ts", 'import { y } from "../util/atomic.ts";'],
      ["formats/passwd.ts", 'const m = await import("../oci/index.ts");'],
    ]);
    assert.deepEqual(flowViolations(files, ALLOWED), [
      "formats → oci (formats/passwd.ts)",
      "newthing → util (newthing/a.ts)",
      "oci → builder (oci/read/open.ts)",
    ]);
  });
});

test("docs/design.md's layout names every folder of src/, and only those", () => {
  const design = readFileSync(join(ROOT, "docs/design.md"), "utf8");
  const section = design.slice(design.indexOf("## Layout"));
  const start = section.indexOf("```\nsrc/") + 4;
  const block = section.slice(start, section.indexOf("\n```", start));
  const named = [...block.matchAll(/^ {2}([a-z][a-z-]*\/|[a-z-]+\.ts)\s/gm)].map((m) => m[1]).sort();
  const actual = readdirSync(join(ROOT, "src"), { withFileTypes: true })
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort();
  assert.deepEqual(named, actual);
});

describe("a subsystem is imported only through its index.ts", () => {
  const biome = join(ROOT, "node_modules/.bin/biome");

  async function lint(cwd: string, dir: string): Promise<Array<{ category: string; path: string }>> {
    const out = await promisify(execFile)(biome, ["lint", "--reporter=json", dir], { cwd }).then(
      (r) => r.stdout,
      (e: { stdout?: string }) => e.stdout ?? "",
    );
    const report = JSON.parse(out.slice(out.indexOf("{"))) as {
      diagnostics: Array<{ category: string; location: { path: string } }>;
    };
    return report.diagnostics.map((d) => ({ category: d.category, path: d.location.path }));
  }

  test("biome (biome.json) refuses deep imports into another subsystem, and only those", async (t) => {
    const dir = await tempDir("shellfree-boundaries-", t);
    const config = JSON.parse(await readFile(join(ROOT, "biome.json"), "utf8")) as Record<string, unknown>;
    delete config.$schema;
    await writeFile(join(dir, "biome.json"), JSON.stringify(config));
    const write = async (path: string, text: string) => {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    };
    await write(
      "src/runtime/deep.ts",
      'import { parseImageRef } from "../oci/ref.ts";\nexport const a = parseImageRef;\n',
    );
    await write(
      "src/oci/read/deep.ts",
      'import type { PasswdEntry } from "../../formats/passwd.ts";\nexport type A = PasswdEntry;\n',
    );
    await write(
      "src/verify/rules/deep.ts",
      'export async function f() {\n  return await import("../../oci/registry/index.ts");\n}\n',
    );
    await write(
      "src/verify/ok.ts",
      [
        'import { ShellfreeError } from "../errors.ts";',
        'import { openImage } from "../oci/index.ts";',
        'import { writeFileAtomic } from "../util/atomic.ts";',
        'import { readImageFs } from "./image-fs.ts";',
        'import { rule } from "./rules/no-shell.ts";',
        "export const a = [openImage, writeFileAtomic, ShellfreeError, readImageFs, rule];",
        "",
      ].join("\n"),
    );
    const found = await lint(dir, "src");
    assert.deepEqual(
      found
        .filter((d) => d.category === "lint/style/noRestrictedImports")
        .map((d) => d.path)
        .sort(),
      ["src/oci/read/deep.ts", "src/runtime/deep.ts", "src/verify/rules/deep.ts"],
    );
  });

  test("the tree has no such import", async () => {
    const found = await lint(ROOT, "src");
    assert.deepEqual(
      found.filter((d) => d.category === "lint/style/noRestrictedImports"),
      [],
    );
  });
});
