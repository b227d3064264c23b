import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { readLockfile } from "../../../src/python/lockfile.ts";
import { parsePylock } from "../../../src/python/pylock.ts";
import { markerEnvironment } from "../../../src/python/target.ts";
import { parseUvLock } from "../../../src/python/uvlock.ts";

const amd64 = markerEnvironment({ python: "3.13.5", arch: "amd64", glibc: "2.41" });
const arm64 = markerEnvironment({ python: "3.13.5", arch: "arm64", glibc: "2.41" });
const H = (c: string) => c.repeat(64);

const PYLOCK = `
lock-version = "1.0"
environments = ["sys_platform == 'linux'"]
requires-python = ">=3.11"
extras = ["speed"]
dependency-groups = ["dev", "docs"]
default-groups = ["dev"]
created-by = "uv"

[[packages]]
name = "Anyio"
version = "4.4.0"
index = "http://127.0.0.1:9/simple"

[[packages.wheels]]
url = "http://127.0.0.1:9/files/anyio-4.4.0-py3-none-any.whl"
size = 86836
hashes = { sha256 = "${H("a")}" }

[packages.sdist]
url = "http://127.0.0.1:9/files/anyio-4.4.0.tar.gz"
hashes = { sha256 = "${H("b")}" }

[[packages]]
name = "uvloop"
version = "0.20.0"
marker = "platform_machine == 'x86_64' and 'speed' in extras"

[[packages.wheels]]
name = "uvloop-0.20.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
path = "wheels/uvloop-0.20.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
hashes = { sha256 = "${H("c")}" }

[[packages]]
name = "pytest"
version = "8.3.0"
marker = "'dev' in dependency_groups"

[[packages.wheels]]
url = "http://127.0.0.1:9/files/pytest-8.3.0-py3-none-any.whl"
hashes = { sha512 = "${"d".repeat(128)}" }
`;

describe("pylock.toml (PEP 751)", () => {
  test("packages whose marker holds, with their files; default groups", () => {
    const r = parsePylock(PYLOCK, "/p/pylock.toml", { env: amd64 });
    assert.deepEqual(
      r.requirements.map((x) => [x.name, x.version]),
      [
        ["anyio", "4.4.0"],
        ["pytest", "8.3.0"],
      ],
    );
    const anyio = r.requirements[0];
    assert.deepEqual(
      anyio.files?.map((f) => [f.filename, f.url, f.size]),
      [
        ["anyio-4.4.0-py3-none-any.whl", "http://127.0.0.1:9/files/anyio-4.4.0-py3-none-any.whl", 86836],
        ["anyio-4.4.0.tar.gz", "http://127.0.0.1:9/files/anyio-4.4.0.tar.gz", undefined],
      ],
    );
    assert.deepEqual(anyio.hashes, [
      { algorithm: "sha256", hex: H("a") },
      { algorithm: "sha256", hex: H("b") },
    ]);
    assert.deepEqual(
      r.skipped.map((s) => s.name),
      ["uvloop"],
    );
  });
  test("extras and groups chosen; relative paths against the lockfile", () => {
    const r = parsePylock(PYLOCK, "/p/pylock.toml", { env: amd64, extras: ["speed"], groups: ["docs"] });
    assert.deepEqual(
      r.requirements.map((x) => x.name),
      ["anyio", "uvloop"],
    );
    assert.equal(
      r.requirements[1].files?.[0].path,
      "/p/wheels/uvloop-0.20.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    );
    const a = parsePylock(PYLOCK, "/p/pylock.toml", { env: arm64, extras: ["speed"], groups: [] });
    assert.deepEqual(
      a.requirements.map((x) => x.name),
      ["anyio"],
    );
  });
  test("errors are one line naming the file", () => {
    const bad: Array<[string, RegExp, object?]> = [
      [
        "lock-version = '2.0'\ncreated-by='x'\n[[packages]]\nname='a'",
        /pylock\.toml: lock-version 2\.0 is not supported/,
      ],
      ["created-by='x'", /no lock-version/],
      [
        "lock-version='1.0'\nenvironments=[\"sys_platform == 'win32'\"]\npackages=[]",
        /none of its environments/,
      ],
      [
        "lock-version='1.0'\nrequires-python='>=3.14'\npackages=[]",
        /requires-python >=3\.14 excludes the image's python 3\.13\.5/,
      ],
      [
        "lock-version='1.0'\n[[packages]]\nname='a'\nversion='1'\n[packages.vcs]\ntype='git'\nurl='x'\ncommit-id='y'",
        /package a: a vcs source needs a build from source; only wheels are installed/,
      ],
      [
        "lock-version='1.0'\n[[packages]]\nname='a'\nversion='1'\n[[packages.wheels]]\nurl='http://127.0.0.1/a-1-py3-none-any.whl'\nhashes={md5='00'}",
        /no sha256\/sha384\/sha512/,
      ],
      ["lock-version='1.0'\n[[packages]]\nname='a'\nversion='1'", /package a: lists no wheels/],
      ["lock-version='1.0'\n[[packages]\n", /pylock\.toml:2:\d+: invalid TOML/],
      ["lock-version='1.0'\npackages=[]", /extra "x" is not in the lock's extras/, { extras: ["x"] }],
    ];
    for (const [text, re, extra] of bad) {
      assert.throws(
        () => parsePylock(text, "pylock.toml", { env: amd64, ...extra }),
        (e: Error) => re.test(e.message) && !e.message.includes("\n"),
        text,
      );
    }
  });
});

const UVLOCK = `
version = 1
revision = 2
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "anyio" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
    { name = "uvicorn", extra = ["standard"] },
]

[package.optional-dependencies]
fast = [{ name = "orjson" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "anyio"
version = "4.4.0"
source = { registry = "http://127.0.0.1:9/simple" }
dependencies = [{ name = "idna" }, { name = "sniffio" }]
sdist = { url = "http://127.0.0.1:9/files/anyio-4.4.0.tar.gz", hash = "sha256:${H("1")}", size = 1 }
wheels = [{ url = "http://127.0.0.1:9/files/anyio-4.4.0-py3-none-any.whl", hash = "sha256:${H("2")}", size = 2 }]

[[package]]
name = "idna"
version = "3.8"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/idna-3.8-py3-none-any.whl", hash = "sha256:${H("3")}" }]

[[package]]
name = "sniffio"
version = "1.3.1"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/sniffio-1.3.1-py3-none-any.whl", hash = "sha256:${H("4")}" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:${H("5")}" }]

[[package]]
name = "uvicorn"
version = "0.30.6"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/uvicorn-0.30.6-py3-none-any.whl", hash = "sha256:${H("6")}" }]

[package.optional-dependencies]
standard = [{ name = "uvloop", marker = "platform_machine == 'x86_64'" }]

[[package]]
name = "uvloop"
version = "0.20.0"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/uvloop-0.20.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:${H("7")}" }]

[[package]]
name = "orjson"
version = "3.10.7"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/orjson-3.10.7-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:${H("8")}" }]

[[package]]
name = "pytest"
version = "8.3.0"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/pytest-8.3.0-py3-none-any.whl", hash = "sha256:${H("9")}" }]
`;

describe("uv.lock", () => {
  test("walks from the project along edges whose marker holds (uv export --no-dev)", () => {
    const r = parseUvLock(UVLOCK, "uv.lock", { env: amd64 });
    assert.deepEqual(
      r.requirements.map((x) => `${x.name}==${x.version}`),
      ["anyio==4.4.0", "idna==3.8", "sniffio==1.3.1", "uvicorn==0.30.6", "uvloop==0.20.0"],
    );
    assert.deepEqual(r.requirements.find((x) => x.name === "uvicorn")?.extras, ["standard"]);
    assert.deepEqual(
      r.requirements[0].files?.map((f) => f.filename),
      ["anyio-4.4.0-py3-none-any.whl", "anyio-4.4.0.tar.gz"],
    );
    assert.deepEqual(
      r.skipped.map((s) => s.name),
      ["colorama"],
    );
  });
  test("per architecture, with extras and groups", () => {
    const r = parseUvLock(UVLOCK, "uv.lock", { env: arm64, extras: ["fast"], groups: ["dev"] });
    assert.deepEqual(
      r.requirements.map((x) => x.name),
      ["anyio", "idna", "orjson", "pytest", "sniffio", "uvicorn"],
    );
    assert.ok(r.skipped.some((s) => s.name === "uvloop"));
  });
  test("errors", () => {
    assert.throws(
      () => parseUvLock("version = 2\n", "uv.lock", { env: amd64 }),
      /uv\.lock: uv\.lock version 2 is not supported/,
    );
    assert.throws(
      () =>
        parseUvLock(UVLOCK.replace('requires-python = ">=3.12"', 'requires-python = ">=3.14"'), "uv.lock", {
          env: amd64,
        }),
      /requires-python >=3\.14 excludes/,
    );
    assert.throws(
      () =>
        parseUvLock(
          `version = 1\n[[package]]\nname = "app"\nversion = "1"\nsource = { virtual = "." }\ndependencies = [{ name = "lib" }]\n[[package]]\nname = "lib"\nversion = "1"\nsource = { git = "http://127.0.0.1/lib.git" }\n`,
          "uv.lock",
          { env: amd64 },
        ),
      /package lib: a git source needs a build from source/,
    );
    assert.throws(
      () =>
        parseUvLock(
          `version = 1\n[[package]]\nname = "app"\nversion = "1"\nsource = { virtual = "." }\ndependencies = [{ name = "nope" }]\n`,
          "uv.lock",
          { env: amd64 },
        ),
      /app depends on nope: not in the lock/,
    );
    assert.throws(
      () => parseUvLock(UVLOCK, "uv.lock", { env: amd64, extras: ["nope"] }),
      /app has no extra "nope"/,
    );
  });
  describe("readLockfile", () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-lock-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    test("chooses the format by file name", () => {
      writeFileSync(join(dir, "uv.lock"), UVLOCK);
      writeFileSync(join(dir, "pylock.prod.toml"), PYLOCK);
      writeFileSync(join(dir, "poetry.lock"), "");
      assert.equal(readLockfile(join(dir, "uv.lock"), { env: amd64 }).requirements.length, 5);
      assert.equal(readLockfile(join(dir, "pylock.prod.toml"), { env: amd64 }).requirements.length, 2);
      assert.throws(
        () => readLockfile(join(dir, "poetry.lock"), { env: amd64 }),
        /not a lockfile name shellfree knows/,
      );
      assert.throws(
        () => readLockfile(join(dir, "pylock.toml"), { env: amd64 }),
        /cannot read lockfile .*ENOENT/,
      );
    });
  });
});
