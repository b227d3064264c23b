/**
 * Bytecode compiled by the image's own interpreter: Debian trixie's real python3.13 (and
 * FastAPI, uvicorn and their dependencies from Debian) unpacked into a temp root, compiled to
 * PEP 552 hash-based .pyc through the image's ELF loader (amd64) and through qemu-user (arm64),
 * byte-for-byte reproducible, recording the in-image paths, and actually used by the image's
 * python on import.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type BytecodeResult,
  compileBytecode,
  findImageInterpreter,
  type ImageInterpreter,
  type PycFile,
  pycHeader,
  runPython,
} from "../../../src/python/index.ts";
import { which } from "../../../src/python/interpreter.ts";
import { type ImageRoot, imageRoot } from "./common.ts";

function compiled(r: BytecodeResult): Extract<BytecodeResult, { status: "compiled" }> {
  assert.equal(r.status, "compiled", r.status === "skipped" ? r.reason : "");
  return r as Extract<BytecodeResult, { status: "compiled" }>;
}

function sameFiles(a: PycFile[], b: PycFile[]): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i].path, b[i].path);
    assert.ok(Buffer.from(a[i].data).equals(Buffer.from(b[i].data)), `${a[i].path} differs between runs`);
  }
}

async function writePyc(root: string, files: PycFile[]): Promise<void> {
  for (const f of files) {
    mkdirSync(join(root, dirname(f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.data);
  }
}

describe("bytecode by the image's interpreter (trixie amd64, FastAPI from Debian)", () => {
  let tmp: string;
  let img: ImageRoot;
  let first: Extract<BytecodeResult, { status: "compiled" }>;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "sf-pyc-"));
    img = await imageRoot(join(tmp, "root"), "trixie", "amd64", [
      "python3",
      "python3-fastapi",
      "python3-uvicorn",
    ]);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test("every .py compiled to checked hash-based .pyc, in the image's cache tag, with in-image paths", async (t) => {
    first = compiled(await compileBytecode(img.root, img.target));
    t.diagnostic(
      `compiled ${first.files.length} files of ${img.packages.length} packages via ${first.via} (python ${first.version}) in ${first.seconds} s`,
    );
    assert.equal(first.via, "loader");
    assert.match(first.version, /^3\.13\./);
    assert.ok(first.files.length > 1000, `${first.files.length} files`);
    assert.deepEqual(first.failed, []);
    const paths = new Set(first.files.map((f) => f.path));
    for (const p of [
      "usr/lib/python3.13/__pycache__/os.cpython-313.pyc",
      "usr/lib/python3.13/json/__pycache__/__init__.cpython-313.pyc",
      "usr/lib/python3/dist-packages/fastapi/__pycache__/applications.cpython-313.pyc",
      "usr/lib/python3/dist-packages/uvicorn/__pycache__/main.cpython-313.pyc",
      "usr/lib/python3/dist-packages/pydantic/__pycache__/main.cpython-313.pyc",
    ]) {
      assert.ok(paths.has(p), p);
    }
    for (const f of first.files) {
      const h = pycHeader(f.data);
      assert.ok(h.hashBased && h.checked, `${f.path}: flags say checked hash-based`);
    }
    // the code object names the in-image source, not the temp directory
    const py = await findImageInterpreter(img.root, img.target);
    assert.ok(py.ok);
    const pyc = first.files.find(
      (f) => f.path === "usr/lib/python3.13/json/__pycache__/__init__.cpython-313.pyc",
    )!;
    await writeFile(join(tmp, "json.pyc"), pyc.data);
    const co = await runPython(py.interpreter, [
      "-S",
      "-c",
      `import marshal; d = open(${JSON.stringify(join(tmp, "json.pyc"))}, "rb").read(); print(marshal.loads(d[16:]).co_filename)`,
    ]);
    assert.equal(co.stdout.trim(), "/usr/lib/python3.13/json/__init__.py", co.stderr);
  });

  test("reproducible: a second run (and one with two compiler processes) gives identical bytes", async () => {
    sameFiles(compiled(await compileBytecode(img.root, img.target)).files, first.files);
    sameFiles(compiled(await compileBytecode(img.root, img.target, { jobs: 2 })).files, first.files);
  });

  test("the image's python imports from them: no recompilation, no new .pyc written", async () => {
    await writePyc(img.root, first.files);
    const found = await findImageInterpreter(img.root, img.target);
    assert.ok(found.ok);
    // let it write bytecode if it wanted to (it must not want to)
    const { PYTHONDONTWRITEBYTECODE: _, ...env } = found.interpreter.env;
    const py: ImageInterpreter = { ...found.interpreter, env };
    const started = Date.now();
    const r = await runPython(py, ["-v", "-c", "import fastapi, uvicorn, pydantic, json; print('ok')"]);
    const ms = Date.now() - started;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.equal(r.stdout.trim(), "ok");
    const loaded = r.stderr.split("\n").filter((l) => l.startsWith("# code object from "));
    assert.ok(loaded.length > 100, `${loaded.length} modules loaded from .pyc`);
    assert.ok(
      loaded.some((l) =>
        l.includes("/usr/lib/python3/dist-packages/fastapi/__pycache__/applications.cpython-313.pyc"),
      ),
    );
    assert.ok(!/# created '/.test(r.stderr), "no .pyc was (re)written");
    assert.ok(!/bytecode is stale|doesn't match/.test(r.stderr), "no .pyc was rejected");
    // and the files are untouched
    for (const f of first.files.filter((x) => x.path.includes("fastapi"))) {
      assert.ok((await readFile(join(img.root, f.path))).equals(Buffer.from(f.data)), f.path);
    }
    // a changed source is honoured (checked-hash), not the stale .pyc
    const src = join(img.root, "usr/lib/python3/dist-packages/fastapi/__init__.py");
    const orig = await readFile(src, "utf8");
    await writeFile(src, `${orig}\nSHELLFREE_CHANGED = 1\n`);
    const r2 = await runPython(found.interpreter, ["-c", "import fastapi; print(fastapi.SHELLFREE_CHANGED)"]);
    assert.equal(r2.stdout.trim(), "1", r2.stderr);
    await writeFile(src, orig);
    process.stderr.write(`# import fastapi+uvicorn+pydantic with compiled bytecode: ${ms} ms (with -v)\n`);
  });
});

describe("bytecode under qemu-user (trixie arm64)", () => {
  let tmp: string;
  let img: ImageRoot;
  before(async () => {
    assert.ok(
      which("qemu-aarch64-static") ?? which("qemu-aarch64"),
      "qemu-user-static is installed (scripts/setup-host.sh)",
    );
    tmp = await mkdtemp(join(tmpdir(), "sf-pyc-arm-"));
    img = await imageRoot(join(tmp, "root"), "trixie", "arm64", [
      "python3.13-minimal",
      "libpython3.13-stdlib",
    ]);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test("compiled by the arm64 interpreter, reproducible, and imported by it", async (t) => {
    // a part of the stdlib: emulation makes the whole of it take minutes
    const files = [
      "usr/lib/python3.13/json/__init__.py",
      "usr/lib/python3.13/json/decoder.py",
      "usr/lib/python3.13/json/encoder.py",
      "usr/lib/python3.13/json/scanner.py",
      "usr/lib/python3.13/decimal.py",
      "usr/lib/python3.13/_pydecimal.py",
    ];
    const a = compiled(await compileBytecode(img.root, img.target, { files }));
    t.diagnostic(`compiled ${a.files.length} files via ${a.via} in ${a.seconds} s`);
    assert.equal(a.via, "qemu");
    assert.equal(a.files.length, files.length);
    assert.ok(a.files.every((f) => pycHeader(f.data).hashBased));
    sameFiles(compiled(await compileBytecode(img.root, img.target, { files })).files, a.files);
    await writePyc(img.root, a.files);
    const found = await findImageInterpreter(img.root, img.target);
    assert.ok(found.ok);
    const { PYTHONDONTWRITEBYTECODE: _, ...env } = found.interpreter.env;
    const r = await runPython({ ...found.interpreter, env }, [
      "-v",
      "-c",
      "import json, platform; print(platform.machine(), json.dumps([1]))",
    ]);
    assert.equal(r.code, 0, r.stderr.slice(-1000));
    assert.equal(r.stdout.trim(), "aarch64 [1]");
    assert.ok(
      r.stderr.includes("# code object from ") &&
        r.stderr.includes("/json/__pycache__/decoder.cpython-313.pyc"),
    );
    // modules outside the compiled part get their .pyc written; the compiled ones are used as they are
    assert.ok(!/# created '[^']*\/json\//.test(r.stderr), "no json .pyc was rewritten");
    assert.ok(
      /# created '/.test(r.stderr),
      "(the check sees writes: platform's .pyc was not compiled before)",
    );
  });
});
