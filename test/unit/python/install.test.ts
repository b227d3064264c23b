import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { after, describe, test } from "node:test";
import { parseEntryPoints } from "../../../src/python/entrypoints.ts";
import { addToRecord, fixShebang, installWheel } from "../../../src/python/install.ts";
import { parseRecord } from "../../../src/python/record.ts";
import { pypiPurl, sbomEntry } from "../../../src/python/sbom.ts";
import type { PythonTarget } from "../../../src/python/target.ts";
import {
  type BuildWheelOptions,
  type BuiltWheel,
  buildWheel,
  extensionWheel,
  pureWheel,
} from "../../helpers/wheels.ts";

const target: PythonTarget = { python: "3.13.5", arch: "amd64", glibc: "2.41" };
const SITE = "usr/local/lib/python3.13/dist-packages";
const dir = mkdtempSync(join(tmpdir(), "sf-install-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function save(w: BuiltWheel): { path: string; filename: string; sha256: string } {
  const path = join(dir, w.filename);
  writeFileSync(path, w.bytes);
  return { path, filename: w.filename, sha256: w.sha256 };
}
const text = (d: Uint8Array) => Buffer.from(d).toString("utf8");

describe("installing a wheel as pip does", () => {
  test("the pure wheel: package, .data scripts/data/headers, console script, INSTALLER, RECORD", async () => {
    const d = await installWheel(save(pureWheel()), target);
    const paths = d.files.map((f) => f.path);
    assert.deepEqual(paths, [
      "usr/local/bin/sfdemo",
      "usr/local/bin/sfdemo-tool",
      "usr/local/include/python3.13/sfdemo/sfdemo.h",
      `${SITE}/sfdemo-1.0.dist-info/INSTALLER`,
      `${SITE}/sfdemo-1.0.dist-info/METADATA`,
      `${SITE}/sfdemo-1.0.dist-info/RECORD`,
      `${SITE}/sfdemo-1.0.dist-info/WHEEL`,
      `${SITE}/sfdemo-1.0.dist-info/entry_points.txt`,
      `${SITE}/sfdemo/__init__.py`,
      `${SITE}/sfdemo/cli.py`,
      "usr/local/share/sfdemo/readme.txt",
    ]);
    const f = (p: string) => d.files.find((x) => x.path === p)!;
    assert.equal(text(f(`${SITE}/sfdemo-1.0.dist-info/INSTALLER`).data), "shellfree\n");
    const tool = f("usr/local/bin/sfdemo-tool");
    assert.equal(tool.mode, 0o755);
    assert.match(text(tool.data), /^#!\/usr\/bin\/python3\.13\nimport sfdemo\n/);
    const launcher = f("usr/local/bin/sfdemo");
    assert.equal(launcher.mode, 0o755);
    assert.equal(
      text(launcher.data),
      '#!/usr/bin/python3.13\n# console script sfdemo: sfdemo.cli:main\nimport sys\nfrom sfdemo.cli import main\n\nif __name__ == "__main__":\n    sys.exit(main())\n',
    );
    assert.equal(f(`${SITE}/sfdemo/cli.py`).mode, 0o644);
    // RECORD: every installed file with its hash and size, paths relative to the site directory
    const rows = parseRecord(text(f(`${SITE}/sfdemo-1.0.dist-info/RECORD`).data));
    assert.ok(Array.isArray(rows));
    const byPath = new Map(rows.map((r) => [r.path, r]));
    assert.equal(rows.length, d.files.length);
    for (const file of d.files) {
      const rel = posix.relative(SITE, file.path);
      const r = byPath.get(rel);
      assert.ok(r, `RECORD lists ${rel}`);
      if (rel.endsWith("RECORD")) assert.deepEqual([r.hash, r.size], ["", ""]);
      else {
        assert.equal(r.hash, `sha256=${createHash("sha256").update(file.data).digest("base64url")}`);
        assert.equal(r.size, String(file.data.length));
      }
    }
    assert.ok(
      byPath.has("../../../bin/sfdemo"),
      "scripts relative to the site directory, as pip writes them",
    );
    assert.ok(d.dirs.includes("usr/local/bin") && d.dirs.includes(`${SITE}/sfdemo`));
    assert.equal(d.tag, "py3-none-any");
    // SBOM
    const s = sbomEntry(d);
    assert.equal(s.purl, "pkg:pypi/sfdemo@1.0");
    assert.equal(s.licenseExpression, "MIT");
    assert.equal(s.files.length, d.files.length);
    assert.equal(s.sha256, createHash("sha256").update(pureWheel().bytes).digest("hex"));
  });

  test("the extension wheel: platlib (Root-Is-Purelib false), executable bit kept, classifier licence", async () => {
    const w = extensionWheel("x86_64", new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
    const d = await installWheel(save(w), target);
    const so = d.files.find((f) => f.path.endsWith(".so"))!;
    assert.equal(so.path, `${SITE}/sfext/_speed.cpython-313-x86_64-linux-gnu.so`);
    assert.equal(so.mode, 0o755);
    const s = sbomEntry(d);
    assert.equal(s.licenseExpression, undefined);
    assert.equal(s.licenseDeclared, "Apache-2.0");
  });

  test("bytecode added to RECORD afterwards belongs to the distribution that installed the source", async () => {
    const d = await installWheel(save(pureWheel()), target);
    const pyc = {
      path: `${SITE}/sfdemo/__pycache__/cli.cpython-313.pyc`,
      mode: 0o644,
      data: new Uint8Array([1, 2, 3]),
    };
    const other = {
      path: `${SITE}/other/__pycache__/x.cpython-313.pyc`,
      mode: 0o644,
      data: new Uint8Array([4]),
    };
    const d2 = addToRecord(d, [pyc, other], SITE);
    assert.ok(d2.files.some((f) => f.path === pyc.path));
    assert.ok(!d2.files.some((f) => f.path === other.path));
    const rows = parseRecord(text(d2.files.find((f) => f.path.endsWith("RECORD"))!.data));
    assert.ok(
      Array.isArray(rows) &&
        rows.some((r) => r.path === "sfdemo/__pycache__/cli.cpython-313.pyc" && r.size === "3"),
    );
  });

  test("#!python shebangs: arguments kept, others untouched", () => {
    const t = (s: string) => text(fixShebang(Buffer.from(s), "/usr/bin/python3.13"));
    assert.equal(t("#!python\nx"), "#!/usr/bin/python3.13\nx");
    assert.equal(t("#!pythonw -u\r\nx"), "#!/usr/bin/python3.13 -u\r\nx");
    assert.equal(t("#!/bin/sh\nx"), "#!/bin/sh\nx");
    assert.equal(t("#!python3\nx"), "#!python3\nx");
  });

  test("entry points: bad values are one-line errors", () => {
    assert.throws(
      () => parseEntryPoints("[console_scripts]\nx = os; rm -rf /\n", "w.whl"),
      /w\.whl: entry_points\.txt line 2: .* is not module:object/,
    );
    assert.throws(
      () => parseEntryPoints("[console_scripts]\n../x = a:b\n", "w.whl"),
      /script name "\.\.\/x" is not a plain file name/,
    );
    assert.throws(() => parseEntryPoints("[gui_scripts]\nx = a\n", "w.whl"), /"a" is not module:object/);
    assert.deepEqual(parseEntryPoints("[console_scripts]\nx = a.b:C.run [extra]\n", "w"), [
      { group: "console_scripts", name: "x", module: "a.b", attr: "C.run" },
    ]);
  });
});

describe("unsafe or inconsistent wheels are refused, one line each", () => {
  const base: BuildWheelOptions = {
    name: "bad",
    version: "1.0",
    tag: "py3-none-any",
    files: { "bad/__init__.py": "x = 1\n" },
  };
  const cases: Array<[string, Partial<BuildWheelOptions>, RegExp]> = [
    [
      "zip-slip ..",
      { rawEntries: [{ name: "../../etc/evil", data: "x" }] },
      /entry "\.\.\/\.\.\/etc\/evil" leaves the installation directory/,
    ],
    [
      "absolute path",
      { rawEntries: [{ name: "/etc/evil", data: "x" }] },
      /entry "\/etc\/evil" is an absolute path/,
    ],
    [
      "symlink",
      { rawEntries: [{ name: "bad/link", data: "/etc/shadow", mode: 0o120777 }] },
      /entry "bad\/link" is a symbolic link/,
    ],
    ["backslash", { rawEntries: [{ name: "bad\\x.py", data: "x" }] }, /contains a backslash/],
    [
      "file not in RECORD",
      { rawEntries: [{ name: "bad/extra.py", data: "x" }] },
      /bad\/extra\.py is not listed in RECORD/,
    ],
    [
      "RECORD hash mismatch",
      {
        tamperRecord: (rows) =>
          rows.map((r) => (r[0] === "bad/__init__.py" ? [r[0], `sha256=${"A".repeat(43)}`, r[2]] : r)),
      },
      /bad\/__init__\.py does not match its RECORD hash/,
    ],
    [
      "RECORD without a hash",
      { tamperRecord: (rows) => rows.map((r) => (r[0] === "bad/__init__.py" ? [r[0], "", ""] : r)) },
      /RECORD has no usable hash for bad\/__init__\.py/,
    ],
    [
      "RECORD names a missing file",
      { tamperRecord: (rows) => [...rows, ["bad/gone.py", "sha256=x", "1"]] },
      /RECORD lists bad\/gone\.py, which is not in the wheel/,
    ],
    ["Wheel-Version 2", { wheelVersion: "2.0" }, /Wheel-Version 2\.0 is not supported \(only 1\.x\)/],
    ["METADATA name", { metadataName: "other" }, /METADATA names "other", the file name bad/],
    ["METADATA version", { metadataVersion: "9.9" }, /METADATA says version "9\.9", the file name 1\.0/],
    [
      "unknown .data scheme",
      { rawEntries: [], data: undefined, files: { "bad/__init__.py": "x", "bad-1.0.data/weird/x": "y" } },
      /unknown \.data scheme "weird"/,
    ],
    [
      "two .dist-info",
      { files: { "bad/__init__.py": "x", "other-1.0.dist-info/METADATA": "Name: other\n" } },
      /more than one \.dist-info directory/,
    ],
  ];
  for (const [name, o, re] of cases) {
    test(name, async () => {
      const w = buildWheel({ ...base, ...o });
      await assert.rejects(
        () => installWheel(save({ ...w, filename: `bad-1.0-py3-none-any.whl` }), target),
        (e: Error) =>
          re.test(e.message) &&
          e.message.startsWith("bad-1.0-py3-none-any.whl: ") &&
          !e.message.includes("\n"),
      );
    });
  }
  test("not a zip", async () => {
    const path = join(dir, "junk-1.0-py3-none-any.whl");
    writeFileSync(path, "not a zip");
    await assert.rejects(
      () => installWheel({ path, filename: "junk-1.0-py3-none-any.whl", sha256: "" }, target),
      /junk-1\.0-py3-none-any\.whl: not a readable zip archive/,
    );
  });
});

describe("purl", () => {
  test("pypi names are lower-cased with _ as -", () => {
    assert.equal(pypiPurl("Typing_Extensions", "4.12.2"), "pkg:pypi/typing-extensions@4.12.2");
    assert.equal(pypiPurl("zope.interface", "1.0+local"), "pkg:pypi/zope.interface@1.0%2Blocal");
  });
});
