/**
 * Wheels installed into real Debian trixie roots and used by the image's own python:
 * a pure py3-none-any wheel (console script, `.data` scripts) and a wheel with a compiled
 * extension tagged cp313-cp313-manylinux_2_17_<arch>.manylinux2014_<arch> — for amd64 a real
 * extension compiled here with gcc against trixie's python3.13 headers (libpython3.13-dev,
 * unpacked with shellfree's debian API), for arm64 the real aarch64 extension module Debian
 * ships in python3-markupsafe — served from a simple index on 127.0.0.1, chosen per
 * architecture from one requirements file, hash-checked, installed, compiled to bytecode,
 * imported and run (amd64 natively through the image's loader, arm64 through qemu-user).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addToRecord,
  compileBytecode,
  debianScheme,
  findImageInterpreter,
  type InstalledDistribution,
  installWheels,
  resolvePythonDeps,
  runPython,
  sbomEntry,
} from "../../../src/python/index.ts";
import { which } from "../../../src/python/interpreter.ts";
import {
  type BuiltWheel,
  extensionWheel,
  pureWheel,
  type ServedIndex,
  serveIndex,
} from "../../helpers/wheels.ts";
import { type ImageRoot, imageRoot } from "./common.ts";

const SPEED_C = `
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
  long a, b;
  if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
  return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add two integers"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }
`;

/** Install the distributions' files (and their bytecode) into the root, as a layer would. */
async function writeInstalled(root: string, dists: InstalledDistribution[]): Promise<void> {
  for (const d of dists) {
    for (const f of d.files) {
      mkdirSync(join(root, dirname(f.path)), { recursive: true });
      await writeFile(join(root, f.path), f.data, { mode: f.mode });
    }
  }
}

describe("wheels from a simple index, installed into trixie's python3.13 and imported by it", () => {
  let tmp: string;
  let amd: ImageRoot;
  let arm: ImageRoot;
  let pure: BuiltWheel;
  let extX86: BuiltWheel;
  let extArm: BuiltWheel;
  let index: ServedIndex;
  let requirements: string;
  const cacheDir = () => join(tmp, "cache");

  before(async () => {
    assert.ok(which("gcc"), "gcc is installed (scripts/setup-host.sh)");
    assert.ok(which("qemu-aarch64-static") ?? which("qemu-aarch64"), "qemu-user-static is installed");
    tmp = await mkdtemp(join(tmpdir(), "sf-wheels-"));
    amd = await imageRoot(join(tmp, "amd64"), "trixie", "amd64", ["python3.13", "libpython3.13-dev"]);
    arm = await imageRoot(join(tmp, "arm64"), "trixie", "arm64", ["python3.13", "python3-markupsafe"]);
    // a real extension module for amd64, built against the image's own headers
    const src = join(tmp, "speed.c");
    await writeFile(src, SPEED_C);
    const so = join(tmp, "_speed.so");
    execFileSync("gcc", [
      "-shared",
      "-fPIC",
      "-O2",
      "-I",
      join(amd.root, "usr/include/python3.13"),
      "-idirafter",
      join(amd.root, "usr/include"),
      src,
      "-o",
      so,
    ]);
    pure = pureWheel();
    extX86 = extensionWheel("x86_64", await readFile(so));
    // Debian's own aarch64 build of markupsafe's extension module
    const msSo = await readFile(
      join(arm.root, "usr/lib/python3/dist-packages/markupsafe/_speedups.cpython-313-aarch64-linux-gnu.so"),
    );
    extArm = extensionWheel("aarch64", msSo, "_speedups");
    index = await serveIndex([pure, extX86, extArm], { format: "json" });
    requirements = join(tmp, "requirements.txt");
    await writeFile(
      requirements,
      [
        "# as uv export writes it",
        `sfdemo==1.0 \\`,
        `    --hash=sha256:${pure.sha256}`,
        `sfext==2.0 \\`,
        `    --hash=sha256:${extArm.sha256} \\`,
        `    --hash=sha256:${extX86.sha256}`,
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await index?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  for (const arch of ["amd64", "arm64"] as const) {
    test(`${arch}: chosen by tag, verified, installed as pip would, compiled, imported and run`, async (t) => {
      const img = arch === "amd64" ? amd : arm;
      const resolved = await resolvePythonDeps(
        { requirements, indexUrl: index.url },
        { target: img.target, cacheDir: cacheDir(), env: { PIP_CONFIG_FILE: "/dev/null" } },
      );
      const machine = arch === "amd64" ? "x86_64" : "aarch64";
      assert.deepEqual(
        resolved.wheels.map((w) => w.file.filename),
        [
          "sfdemo-1.0-py3-none-any.whl",
          `sfext-2.0-cp313-cp313-manylinux_2_17_${machine}.manylinux2014_${machine}.whl`,
        ],
      );
      let dists = await installWheels(resolved.wheels, img.target);
      // bytecode for the installed sources, by the image's interpreter, listed in RECORD
      const sources = dists.flatMap((d) => d.files.map((f) => f.path)).filter((p) => p.endsWith(".py"));
      await writeInstalled(img.root, dists);
      const compiled = await compileBytecode(img.root, img.target, { files: sources });
      assert.equal(compiled.status, "compiled", compiled.status === "skipped" ? compiled.reason : "");
      if (compiled.status !== "compiled") return;
      t.diagnostic(`${compiled.files.length} .pyc via ${compiled.via} in ${compiled.seconds} s`);
      const site = debianScheme(img.target).purelib;
      dists = dists.map((d) =>
        addToRecord(
          d,
          compiled.files.map((f) => ({ path: f.path, mode: 0o644, data: f.data })),
          site,
        ),
      );
      await writeInstalled(img.root, dists);

      const found = await findImageInterpreter(img.root, img.target);
      assert.ok(found.ok, found.ok ? "" : found.reason);
      const py = found.interpreter;
      const probe =
        arch === "amd64"
          ? "import sfext; print(sfext._speed.add(2, 3))"
          : "import sfext; print(str(sfext._speedups.escape('<a&b>')))";
      const r = await runPython(py, [
        "-c",
        `import sfdemo, importlib.metadata as md; print(sfdemo.hello()); print(md.version("sfdemo"), md.version("sfext")); print(len(md.files("sfext"))); ${probe}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines[0], "hello from sfdemo");
      assert.equal(lines[1], "1.0 2.0");
      const sfext = dists.find((d) => d.name === "sfext")!;
      assert.equal(Number(lines[2]), sfext.files.length, "importlib.metadata reads the rewritten RECORD");
      assert.equal(lines[3], arch === "amd64" ? "5" : "&lt;a&amp;b&gt;");
      // the console script and the .data script: launchers for the image's /usr/bin/python3.13
      const launcher = await readFile(join(img.root, "usr/local/bin/sfdemo"), "utf8");
      assert.ok(launcher.startsWith("#!/usr/bin/python3.13\n"));
      const cli = await runPython(py, [join(img.root, "usr/local/bin/sfdemo"), "a", "b"]);
      assert.equal(cli.stdout.trim(), "sfdemo cli a b", cli.stderr);
      const tool = await runPython(py, [join(img.root, "usr/local/bin/sfdemo-tool")]);
      assert.equal(tool.stdout.trim(), "hello from sfdemo", tool.stderr);
      // the image's python loads the compiled bytecode
      const v = await runPython({ ...py, env: { ...py.env, PYTHONDONTWRITEBYTECODE: "" } }, [
        "-v",
        "-c",
        "import sfdemo.cli",
      ]);
      assert.ok(
        v.stderr.includes("/usr/local/lib/python3.13/dist-packages/sfdemo/__pycache__/cli.cpython-313.pyc"),
        v.stderr.slice(-800),
      );
      // SBOM entries
      assert.deepEqual(
        dists.map((d) => sbomEntry(d).purl),
        ["pkg:pypi/sfdemo@1.0", "pkg:pypi/sfext@2.0"],
      );
      assert.equal(sbomEntry(sfext).sha256, arch === "amd64" ? extX86.sha256 : extArm.sha256);
    });
  }

  test("the cache holds each wheel under its sha256 and the index served each file once", async () => {
    const fetched = index.requests.filter((u) => u.startsWith("/files/"));
    assert.equal(fetched.length, 3, fetched.join(" "));
    for (const w of [pure, extX86, extArm]) {
      const data = await readFile(join(cacheDir(), "wheels", "sha256", w.sha256));
      assert.ok(data.equals(Buffer.from(w.bytes)));
    }
  });
});
