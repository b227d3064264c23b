import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { installWheels, resolvePythonDeps } from "../../../src/python/plan.ts";
import type { PythonTarget } from "../../../src/python/target.ts";
import { type BuiltWheel, buildWheel, extensionWheel, pureWheel, serveIndex } from "../../helpers/wheels.ts";

process.env.SHELLFREE_RETRY_BASE_MS = "5";
const amd64: PythonTarget = { python: "3.13.5", arch: "amd64", glibc: "2.41" };
const arm64: PythonTarget = { python: "3.13.5", arch: "arm64", glibc: "2.41" };
const noConfig = { PIP_CONFIG_FILE: "/dev/null" };

const pure = pureWheel();
const extX86 = extensionWheel("x86_64", new TextEncoder().encode("x86_64 extension"));
const extArm = extensionWheel("aarch64", new TextEncoder().encode("aarch64 extension"));
const sdistOnly = { filename: "onlysrc-1.0.tar.gz", bytes: new TextEncoder().encode("sdist") };

/** A requirements file as uv export writes it: every file's hash of each pinned version. */
function requirements(extra = ""): string {
  return [
    `sfdemo==1.0 \\`,
    `    --hash=sha256:${pure.sha256}`,
    `sfext==2.0 \\`,
    `    --hash=sha256:${extX86.sha256} \\`,
    `    --hash=sha256:${extArm.sha256}`,
    `colorama==0.4.6 ; sys_platform == "win32" --hash=sha256:${"0".repeat(64)}`,
    extra,
  ].join("\n");
}

describe("resolving and installing Python dependencies", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sf-plan-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const cache = (name: string) => join(dir, `cache-${name}`);
  const cached = (c: string) => {
    try {
      return readdirSync(join(c, "wheels", "sha256")).sort();
    } catch {
      return [];
    }
  };

  for (const format of ["json", "html"] as const) {
    test(`requirements + a ${format} simple index on 127.0.0.1: the right wheel per architecture, verified and cached`, async () => {
      const idx = await serveIndex([pure, extX86, extArm], { format, failFirst: 1 });
      try {
        const req = file(`req-${format}.txt`, requirements());
        const c = cache(format);
        const r = await resolvePythonDeps(
          { requirements: req, indexUrl: idx.url },
          { target: amd64, cacheDir: c, env: noConfig },
        );
        assert.deepEqual(
          r.wheels.map((w) => [w.file.filename, w.tag]),
          [
            ["sfdemo-1.0-py3-none-any.whl", "py3-none-any"],
            [
              "sfext-2.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
              "cp313-cp313-manylinux_2_17_x86_64",
            ],
          ],
        );
        assert.deepEqual(
          r.skipped.map((s) => s.name),
          ["colorama"],
        );
        assert.equal(r.index?.source, "the spec (python.index-url)");
        assert.deepEqual(cached(c), [pure.sha256, extX86.sha256].sort());
        assert.equal(r.wheels[1].path, join(c, "wheels", "sha256", extX86.sha256));
        const a = await resolvePythonDeps(
          { requirements: req, indexUrl: idx.url },
          { target: arm64, cacheDir: c, env: noConfig },
        );
        assert.equal(
          a.wheels[1].file.filename,
          "sfext-2.0-cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        );
        // a second run takes the wheels from the cache: no file is downloaded again
        const before = idx.requests.filter((u) => u.startsWith("/files/")).length;
        await resolvePythonDeps(
          { requirements: req, indexUrl: idx.url },
          { target: amd64, cacheDir: c, env: noConfig },
        );
        assert.equal(idx.requests.filter((u) => u.startsWith("/files/")).length, before);
        // the first download got a 503 and was retried
        assert.equal(idx.requests.filter((u) => u.startsWith("/files/")).length, 4);
        const installed = await installWheels(r.wheels, amd64);
        assert.deepEqual(
          installed.map((d) => `${d.name} ${d.version}`),
          ["sfdemo 1.0", "sfext 2.0"],
        );
      } finally {
        await idx.stop();
      }
    });
  }

  test("a wheel whose bytes differ from the requirement's hash is rejected, naming both hashes; nothing is cached", async () => {
    const tampered = extensionWheel("x86_64", new TextEncoder().encode("something else"));
    // the index states no hash, so the bytes are only known once downloaded
    const idx = await serveIndex([
      pure,
      { filename: extX86.filename, bytes: tampered.bytes, statedSha256: null },
    ]);
    try {
      const c = cache("tampered");
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { requirements: file("req-t.txt", requirements()), indexUrl: idx.url },
            { target: amd64, cacheDir: c, env: noConfig },
          ),
        (e: Error & { code?: string; exitCode?: number }) =>
          e.code === "E_PY_HASH" &&
          e.exitCode === 3 &&
          e.message.includes(extX86.filename) &&
          e.message.includes(`sha256:${tampered.sha256}`) &&
          e.message.includes(`sha256:${extX86.sha256}`) &&
          !e.message.includes("\n"),
      );
      assert.ok(!cached(c).includes(tampered.sha256), "nothing cached under a wrong hash");
      assert.ok(!cached(c).some((n) => n.startsWith(".tmp-")), "no temp file left");
    } finally {
      await idx.stop();
    }
  });

  test("an index stating a hash the requirement does not allow: refused before downloading", async () => {
    const idx = await serveIndex([
      pure,
      { filename: extX86.filename, bytes: extX86.bytes, statedSha256: "9".repeat(64) },
    ]);
    try {
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { requirements: file("req-s.txt", requirements()), indexUrl: idx.url },
            { target: amd64, cacheDir: cache("stated"), env: noConfig },
          ),
        /sfext==2\.0 \(.*req-s\.txt:3\): sfext-2\.0-cp313.* has sha256:9{64}, which is none of the allowed/,
      );
      assert.ok(!idx.requests.some((u) => u.includes("sfext-2.0-cp313")));
    } finally {
      await idx.stop();
    }
  });

  test("only an sdist on the index; a project the index does not know; no index configured", async () => {
    const idx = await serveIndex([sdistOnly]);
    try {
      const h = `--hash=sha256:${"1".repeat(64)}`;
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { requirements: file("r1.txt", `onlysrc==1.0 ${h}`), indexUrl: idx.url },
            { target: amd64, cacheDir: cache("s"), env: noConfig },
          ),
        /onlysrc==1\.0 \(.*r1\.txt:1\): only a source distribution is available \(onlysrc-1\.0\.tar\.gz\); shellfree installs wheels only/,
      );
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { requirements: file("r2.txt", `absent==1.0 ${h}`), indexUrl: idx.url },
            { target: amd64, cacheDir: cache("s"), env: noConfig },
          ),
        /absent==1\.0 \(.*r2\.txt:1\): no file of this version was found/,
      );
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { requirements: file("r3.txt", `absent==1.0 ${h}`) },
            { target: amd64, cacheDir: cache("s"), env: noConfig },
          ),
        (e: Error & { hint?: string }) =>
          /no package index is configured/.test(e.message) && /PIP_INDEX_URL/.test(e.hint ?? ""),
      );
    } finally {
      await idx.stop();
    }
  });

  test("PIP_INDEX_URL with credentials: sent as Basic auth, never shown", async () => {
    const idx = await serveIndex([pure], { auth: { user: "ci", password: "s3cret" } });
    try {
      const url = idx.url.replace("http://", "http://ci:s3cret@");
      const r = await resolvePythonDeps(
        { requirements: file("ra.txt", `sfdemo==1.0 --hash=sha256:${pure.sha256}`) },
        { target: amd64, cacheDir: cache("auth"), env: { ...noConfig, PIP_INDEX_URL: url } },
      );
      assert.equal(r.wheels.length, 1);
      assert.equal(r.index?.source, "PIP_INDEX_URL");
      assert.ok(!r.index?.url.includes("s3cret"));
      const bad = idx.url.replace("http://", "http://ci:wrong@");
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { requirements: file("rb.txt", `sfdemo==1.0 --hash=sha256:${pure.sha256}`) },
            { target: amd64, cacheDir: cache("auth2"), env: { ...noConfig, PIP_INDEX_URL: bad } },
          ),
        (e: Error) => /HTTP 401/.test(e.message) && !e.message.includes("wrong"),
      );
    } finally {
      await idx.stop();
    }
  });

  test("a server that never answers: a timeout per attempt, retried, then one clear error", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const server = createServer(() => {});
    server.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const started = Date.now();
      await assert.rejects(
        () =>
          resolvePythonDeps(
            {
              requirements: file("rt.txt", `sfdemo==1.0 --hash=sha256:${pure.sha256}`),
              indexUrl: `http://127.0.0.1:${port}/simple`,
            },
            { target: amd64, cacheDir: cache("t"), env: noConfig, net: { timeoutMs: 200, attempts: 2 } },
          ),
        /GET http:\/\/127\.0\.0\.1:\d+\/simple\/sfdemo\/ failed after 2 attempts: 127\.0\.0\.1:\d+: no answer to GET \/simple\/sfdemo\/ within 200 ms/,
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test("a wheel directory alone: every project in it, hashes taken from the files; local wheels win over the index", async () => {
    const wd = join(dir, "wheels");
    mkdirSync(wd, { recursive: true });
    for (const w of [pure, extX86, extArm] as BuiltWheel[]) writeFileSync(join(wd, w.filename), w.bytes);
    const r = await resolvePythonDeps(
      { wheels: [wd] },
      { target: arm64, cacheDir: cache("dir"), env: noConfig },
    );
    assert.deepEqual(
      r.wheels.map((w) => w.file.filename),
      [
        "sfdemo-1.0-py3-none-any.whl",
        "sfext-2.0-cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
      ],
    );
    assert.equal(r.index, undefined, "no index asked");
    writeFileSync(join(wd, "sfdemo-1.1-py3-none-any.whl"), pureWheel("1.1").bytes);
    await assert.rejects(
      () => resolvePythonDeps({ wheels: [wd] }, { target: arm64, cacheDir: cache("dir"), env: noConfig }),
      /the wheel directories hold sfdemo in versions 1\.0, 1\.1: name the one to install/,
    );
    // with a requirements file and --no-index, the directory alone serves it
    const r2 = await resolvePythonDeps(
      { requirements: file("rd.txt", `--no-index\n${requirements()}`), wheels: [wd] },
      { target: amd64, cacheDir: cache("dir"), env: noConfig },
    );
    assert.equal(r2.wheels.length, 2);
    // a local wheel whose bytes differ from the requirement's hash
    const other = buildWheel({
      name: "sfdemo",
      version: "1.0",
      tag: "py3-none-any",
      files: { "sfdemo/__init__.py": "changed = 1\n" },
    });
    const wd2 = join(dir, "wheels2");
    mkdirSync(wd2);
    writeFileSync(join(wd2, other.filename), other.bytes);
    await assert.rejects(
      () =>
        resolvePythonDeps(
          {
            requirements: file("rx.txt", `--no-index\nsfdemo==1.0 --hash=sha256:${pure.sha256}`),
            wheels: [wd2],
          },
          { target: amd64, cacheDir: cache("dir"), env: noConfig },
        ),
      (e: Error & { code?: string }) =>
        e.code === "E_PY_HASH" && e.message.includes(other.sha256) && e.message.includes(pure.sha256),
    );
  });

  test("a pylock.toml whose wheels are on 127.0.0.1", async () => {
    const idx = await serveIndex([pure, extX86, extArm]);
    try {
      const base = idx.url.replace(/\/simple$/, "/files");
      const lock = file(
        "pylock.toml",
        [
          'lock-version = "1.0"',
          'created-by = "test"',
          "[[packages]]",
          'name = "sfdemo"',
          'version = "1.0"',
          "[[packages.wheels]]",
          `url = "${base}/${pure.filename}"`,
          `hashes = { sha256 = "${pure.sha256}" }`,
          "[[packages]]",
          'name = "sfext"',
          'version = "2.0"',
          "[[packages.wheels]]",
          `url = "${base}/${extX86.filename}"`,
          `hashes = { sha256 = "${extX86.sha256}" }`,
          "[[packages.wheels]]",
          `url = "${base}/${extArm.filename}"`,
          `hashes = { sha256 = "${extArm.sha256}" }`,
        ].join("\n"),
      );
      const r = await resolvePythonDeps({ lock }, { target: arm64, cacheDir: cache("lock"), env: noConfig });
      assert.deepEqual(
        r.wheels.map((w) => w.file.filename),
        [pure.filename, extArm.filename],
      );
      assert.ok(
        !idx.requests.some((u) => u.startsWith("/simple")),
        "the lock's URLs are used, no index page",
      );
      await assert.rejects(
        () =>
          resolvePythonDeps(
            { lock, requirements: lock },
            { target: arm64, cacheDir: cache("lock"), env: noConfig },
          ),
        /python\.requirements and python\.lock are alternatives/,
      );
    } finally {
      await idx.stop();
    }
  });

  test("two wheels installing the same path conflict", async () => {
    const a = buildWheel({
      name: "aa",
      version: "1",
      tag: "py3-none-any",
      files: { "shared/x.py": "a = 1\n" },
    });
    const b = buildWheel({
      name: "bb",
      version: "1",
      tag: "py3-none-any",
      files: { "shared/x.py": "b = 1\n" },
    });
    const wd = join(dir, "conflict");
    mkdirSync(wd);
    writeFileSync(join(wd, a.filename), a.bytes);
    writeFileSync(join(wd, b.filename), b.bytes);
    const r = await resolvePythonDeps(
      { wheels: [wd] },
      { target: amd64, cacheDir: cache("c"), env: noConfig },
    );
    await assert.rejects(
      () => installWheels(r.wheels, amd64),
      /bb-1-py3-none-any\.whl and aa-1-py3-none-any\.whl both install usr\/local\/lib\/python3\.13\/dist-packages\/shared\/x\.py/,
    );
  });
});
