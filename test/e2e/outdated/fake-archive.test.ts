/**
 * `shellfree outdated` against fake archives signed by a test key and served on 127.0.0.1: the
 * main archive (trixie, trixie-updates) on one server and the security archive (trixie-security)
 * on another, republished between the steps. Locks and images are made by shellfree itself
 * (`lock`, `build --locked`) from these archives; one distroless-style image (status.d) is
 * written by hand; one image is pushed to a real docker-registry and read back from it.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { compareVersions } from "../../../src/debian/index.ts";
import type { OutdatedJson } from "../../../src/outdated/index.ts";
import {
  type DebSpec,
  type FakeServer,
  fakeArchive,
  makeKey,
  serveArchive,
  type TarSpec,
} from "../../fixtures/debian/fake-archive.ts";
import { makeImage } from "../../helpers/images.ts";
import { startRegistry } from "../../helpers/registry.ts";
import { shellfree } from "../builder/common.ts";

const ARCHES = ["amd64", "arm64"];

const osRelease: TarSpec[] = [
  { name: "./", type: "directory" },
  { name: "./usr/", type: "directory" },
  { name: "./usr/lib/", type: "directory" },
  {
    name: "./usr/lib/os-release",
    data: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
  },
  { name: "./etc/", type: "directory" },
  { name: "./etc/os-release", type: "symlink", linkname: "../usr/lib/os-release" },
];

/** trixie as first published */
const MAIN: DebSpec[] = [
  { name: "base-files", version: "13.8", fields: { Essential: "yes" }, data: osRelease },
  { name: "hello", version: "1.0-1", fields: { Depends: "libgreet1 (>= 1.0)" } },
  { name: "libgreet1", version: "1.0-1", fields: { Source: "greet", "Multi-Arch": "same" } },
  { name: "greet-data", version: "1.0-1", arch: "all", fields: { Source: "greet" } },
  { name: "unrelated", version: "1.0-1" },
];
/** trixie-security before any fix of an installed package */
const SECURITY: DebSpec[] = [{ name: "unrelated", version: "1.0-1+deb13u1" }];
/** the security fix: libgreet1 from source greet 1.0-1+deb13u1 */
const LIBGREET_FIX: DebSpec = {
  name: "libgreet1",
  version: "1.0-1+deb13u1",
  fields: { Source: "greet", "Multi-Arch": "same" },
};

describe("shellfree outdated (fake archives on 127.0.0.1)", () => {
  let tmp: string;
  let key: Awaited<ReturnType<typeof makeKey>>;
  let keyring: string;
  let main: FakeServer;
  let security: FakeServer;
  const mainFiles = new Map<string, Buffer>();
  const securityFiles = new Map<string, Buffer>();
  let specDir: string;

  /** Replace what a server serves with these suites (each a complete signed archive). */
  async function publish(files: Map<string, Buffer>, suites: Record<string, DebSpec[]>): Promise<void> {
    files.clear();
    for (const [suite, packages] of Object.entries(suites)) {
      const a = await fakeArchive({ suite, arches: ARCHES, packages, key: key.privateKey });
      for (const [k, v] of a.files) files.set(k, v);
    }
  }
  const baseline = async () => {
    await publish(mainFiles, { trixie: MAIN });
    await publish(securityFiles, { "trixie-security": SECURITY });
  };

  const archiveArgs = () => [
    "--mirror",
    main.url,
    "--security-mirror",
    security.url,
    "--keyring",
    keyring,
    "--cache-dir",
    join(tmp, "cache"),
  ];
  const sf = (args: string[]) => shellfree([...args, ...archiveArgs()], { timeoutMs: 180_000 });
  /** `outdated ... --json -q`: the exit code and the parsed answer (stderr must be empty then) */
  async function outdated(args: string[]): Promise<{ code: number; json: OutdatedJson; stderr: string }> {
    const r = await sf(["-q", "outdated", ...args, "--json"]);
    assert.ok([0, 10, 11].includes(r.code ?? -1), `exit ${r.code}: ${r.stderr}`);
    return { code: r.code as number, json: JSON.parse(r.stdout) as OutdatedJson, stderr: r.stderr };
  }
  const brief = (j: OutdatedJson) =>
    j.updates.map(
      (u) =>
        `${u.architecture} ${u.name} ${u.installed} → ${u.candidate} ${u.suite}${u.security ? " security" : ""}`,
    );

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-outdated-"));
    key = await makeKey();
    keyring = join(tmp, "keyring.gpg");
    await writeFile(keyring, key.keyring);
    main = await serveArchive(mainFiles);
    security = await serveArchive(securityFiles);
    await baseline();
    specDir = join(tmp, "app");
    await mkdir(specDir);
    await writeFile(
      join(specDir, "shellfree.yaml"),
      "name: app\nsuite: trixie\narchitectures: [amd64, arm64]\npackages:\n  include: [hello, greet-data]\nsources:\n  security: true\n",
    );
    const r = await sf(["lock", "-f", join(specDir, "shellfree.yaml")]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await main?.close();
    await security?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("nothing newer: exit 0, status up-to-date, every suite named in the answer", async () => {
    await baseline();
    const spec = join(specDir, "shellfree.yaml");
    const { code, json } = await outdated([spec]);
    assert.equal(code, 0);
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.status, "up-to-date");
    assert.equal(json.exitCode, 0);
    assert.deepEqual(json.input, { kind: "lockfile", ref: join(specDir, "shellfree.lock"), spec });
    assert.deepEqual(json.updates, []);
    assert.deepEqual(json.notInArchive, []);
    assert.deepEqual(json.warnings, []);
    // base-files, hello, libgreet1, greet-data per architecture
    assert.deepEqual(json.summary, { packages: 8, updates: 0, security: 0 });
    assert.deepEqual(
      json.targets.map((t) => [
        t.architecture,
        t.suite,
        t.packages,
        t.sources.map((s) => [s.suite, s.uri, s.security]),
      ]),
      ARCHES.map((a) => [
        a,
        "trixie",
        4,
        [
          ["trixie", main.url, false],
          ["trixie-security", security.url, true],
        ],
      ]),
    );
    for (const t of json.targets)
      for (const s of t.sources) assert.ok(s.date && !Number.isNaN(Date.parse(s.date)));
    // the lockfile itself, and the text report
    const lockPath = join(specDir, "shellfree.lock");
    assert.equal((await outdated([lockPath])).code, 0);
    const text = await sf(["-q", "outdated", lockPath]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      `${lockPath} (trixie, amd64): 4 packages compared with trixie, trixie-security\n` +
        `${lockPath} (trixie, arm64): 4 packages compared with trixie, trixie-security\n\nup to date\n`,
    );
  });

  test("a fix in the security suite: exactly that package, as a security update, exit 10", async () => {
    await publish(securityFiles, { "trixie-security": [...SECURITY, LIBGREET_FIX] });
    const { code, json } = await outdated(["-f", join(specDir, "shellfree.yaml")]);
    assert.equal(code, 10);
    assert.equal(json.status, "security-updates");
    assert.deepEqual(brief(json), [
      "amd64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security",
      "arm64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security",
    ]);
    assert.deepEqual(json.updates[0], {
      architecture: "amd64",
      name: "libgreet1",
      installed: "1.0-1",
      candidate: "1.0-1+deb13u1",
      suite: "trixie-security",
      security: true,
      securityVersion: "1.0-1+deb13u1",
      source: "greet",
      sourceVersion: "1.0-1+deb13u1",
    });
    assert.deepEqual(json.summary, { packages: 8, updates: 2, security: 2 });
    // the text table, and the exit code under each --fail-on
    const text = await sf(["-q", "outdated", join(specDir, "shellfree.yaml")]);
    assert.equal(text.code, 10);
    assert.match(
      text.stdout,
      /^PACKAGE +ARCH +INSTALLED +CANDIDATE +SUITE +SECURITY +SOURCE\nlibgreet1 +amd64 +1\.0-1 +1\.0-1\+deb13u1 +trixie-security +yes +greet 1\.0-1\+deb13u1\n/m,
    );
    assert.match(text.stdout, /\n2 newer versions, 2 security updates\n$/);
    assert.equal((await outdated([join(specDir, "shellfree.lock"), "--fail-on", "security"])).code, 10);
    const never = await outdated([join(specDir, "shellfree.lock"), "--fail-on", "never"]);
    assert.equal(never.code, 0);
    assert.equal(never.json.status, "security-updates");
    // --no-security: the fix is not seen
    const off = await outdated([join(specDir, "shellfree.lock"), "--no-security"]);
    assert.equal(off.code, 0);
    assert.deepEqual(
      off.json.targets[0].sources.map((s) => s.suite),
      ["trixie"],
    );
  });

  test("a newer version only in the main suite or -updates: not a security update, exit 11", async () => {
    await publish(mainFiles, {
      trixie: MAIN.map((p) => (p.name === "hello" ? { ...p, version: "1.1-1" } : p)),
    });
    await publish(securityFiles, { "trixie-security": SECURITY });
    const lock = join(specDir, "shellfree.lock");
    const { code, json } = await outdated([lock]);
    assert.equal(code, 11);
    assert.equal(json.status, "updates");
    assert.deepEqual(brief(json), ["amd64 hello 1.0-1 → 1.1-1 trixie", "arm64 hello 1.0-1 → 1.1-1 trixie"]);
    assert.equal(json.updates[0].securityVersion, null);
    assert.equal((await outdated([lock, "--fail-on", "security"])).code, 0);
    assert.equal((await outdated([lock, "--fail-on", "any"])).code, 11);

    // trixie-updates beside trixie on the main mirror: compared only when configured
    await publish(mainFiles, {
      trixie: MAIN,
      "trixie-updates": [
        { name: "greet-data", version: "1.0-1+deb13u1", arch: "all", fields: { Source: "greet" } },
      ],
    });
    assert.equal((await outdated([lock])).code, 0);
    const upd = await outdated([lock, "--extra-suite", "trixie-updates"]);
    assert.equal(upd.code, 11);
    assert.deepEqual(brief(upd.json), [
      "amd64 greet-data 1.0-1 → 1.0-1+deb13u1 trixie-updates",
      "arm64 greet-data 1.0-1 → 1.0-1+deb13u1 trixie-updates",
    ]);
    assert.deepEqual(
      upd.json.targets[0].sources.map((s) => s.suite),
      ["trixie", "trixie-updates", "trixie-security"],
    );
  });

  test("a tampered security Release: a one-line error (and its hint), exit 3; stdout holds only the JSON error", async () => {
    await baseline();
    const inrelease = securityFiles.get("dists/trixie-security/InRelease")!.toString("utf8");
    assert.match(inrelease, /^Label: Test$/m);
    securityFiles.set(
      "dists/trixie-security/InRelease",
      Buffer.from(inrelease.replace(/^Label: Test$/m, "Label: Tampered")),
    );
    const r = await sf(["-q", "outdated", join(specDir, "shellfree.lock"), "--json"]);
    assert.equal(r.code, 3, r.stderr);
    // under --json the error is also a JSON document on stdout, and nothing else is
    const err = JSON.parse(r.stdout).error;
    assert.equal(err.exitCode, 3);
    assert.equal(`shellfree: ${err.message}`, r.stderr.split("\n")[0]);
    assert.match(
      r.stderr,
      /^shellfree: http:\/\/127\.0\.0\.1:\d+\/debian\/dists\/trixie-security\/InRelease: no valid signature from a key in the keyring [^\n]*\nhint: [^\n]*\n$/,
    );

    // signed, but by a key the keyring does not hold
    const stranger = await makeKey("stranger");
    const other = await fakeArchive({
      suite: "trixie-security",
      arches: ARCHES,
      packages: SECURITY,
      key: stranger.privateKey,
    });
    securityFiles.clear();
    for (const [k, v] of other.files) securityFiles.set(k, v);
    const r2 = await sf(["-q", "outdated", join(specDir, "shellfree.lock")]);
    assert.equal(r2.code, 3, r2.stderr);
    assert.match(
      r2.stderr,
      /^shellfree: [^\n]*\/dists\/trixie-security\/InRelease: [^\n]*\n(hint: [^\n]*\n)?$/,
    );
    await baseline();
  });

  test("images built from the lock (every platform) and pushed to a registry: their dpkg databases", async () => {
    await baseline();
    const spec = join(specDir, "shellfree.yaml");
    const out = join(tmp, "img-v1");
    const b = await sf(["build", "-f", spec, "--locked", "-o", `oci:${out}`]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await outdated([`oci:${out}`])).code, 0);

    await publish(securityFiles, { "trixie-security": [...SECURITY, LIBGREET_FIX] });
    const { code, json } = await outdated([`oci:${out}`]);
    assert.equal(code, 10);
    assert.deepEqual(json.input, { kind: "image", ref: `oci:${out}`, spec: null });
    assert.deepEqual(
      json.targets.map((t) => [t.platform, t.architecture, t.suite, t.packages, t.security]),
      [
        ["linux/amd64", "amd64", "trixie", 4, 1],
        ["linux/arm64/v8", "arm64", "trixie", 4, 1],
      ],
    );
    for (const t of json.targets) assert.match(t.manifest ?? "", /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(brief(json), [
      "amd64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security",
      "arm64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security",
    ]);
    const one = await outdated([`oci:${out}`, "--platform", "linux/arm64"]);
    assert.deepEqual(brief(one.json), ["arm64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security"]);

    const reg = await startRegistry();
    try {
      const p = await shellfree(["push", `oci:${out}`, `${reg.host}/shellfree/app:v1`]);
      assert.equal(p.code, 0, p.stderr);
      for (const ref of [`registry:${reg.host}/shellfree/app:v1`, `docker://${reg.host}/shellfree/app:v1`]) {
        const fromReg = await outdated([ref]);
        assert.equal(fromReg.code, 10, ref);
        assert.deepEqual(brief(fromReg.json), brief(json), ref);
        assert.deepEqual(
          fromReg.json.targets.map((t) => t.manifest),
          json.targets.map((t) => t.manifest),
        );
      }
    } finally {
      await reg.stop();
    }
  });

  test("the weekly rebuild: outdated (10) → lock → build --locked → outdated (0) on the lock and the new image", async () => {
    await baseline();
    const dir = join(tmp, "weekly");
    await mkdir(dir);
    const spec = join(dir, "shellfree.yaml");
    await writeFile(spec, await readFile(join(specDir, "shellfree.yaml")));
    assert.equal((await sf(["lock", "-f", spec])).code, 0);
    const v1 = join(tmp, "weekly-v1");
    assert.equal((await sf(["build", "-f", spec, "--locked", "-o", `oci:${v1}`])).code, 0);

    await publish(securityFiles, { "trixie-security": [...SECURITY, LIBGREET_FIX] });
    assert.equal((await outdated(["-f", spec])).code, 10);
    const l = await sf(["lock", "-f", spec]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /amd64: ~ libgreet1 1\.0-1 → 1\.0-1\+deb13u1/);
    const v2 = join(tmp, "weekly-v2");
    const b = await sf(["build", "-f", spec, "--locked", "-o", `oci:${v2}`]);
    assert.equal(b.code, 0, b.stderr);
    const after = await outdated(["-f", spec]);
    assert.equal(after.code, 0, JSON.stringify(after.json.updates));
    assert.equal((await outdated([`oci:${v2}`])).code, 0);
    // the old image still needs the fix
    assert.equal((await outdated([`oci:${v1}`])).code, 10);
  });

  test("a spec without sources.security: the fix is reported, with a warning that `lock` will not install it", async () => {
    await baseline();
    const dir = join(tmp, "nosec");
    await mkdir(dir);
    const spec = join(dir, "shellfree.yaml");
    await writeFile(spec, "name: nosec\nsuite: trixie\npackages:\n  include: [hello]\n");
    assert.equal((await sf(["lock", "-f", spec])).code, 0);
    await publish(securityFiles, { "trixie-security": [...SECURITY, LIBGREET_FIX] });
    const { code, json, stderr } = await outdated([spec]);
    assert.equal(code, 10);
    assert.deepEqual(brief(json), ["amd64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security"]);
    assert.equal(json.warnings.length, 1);
    assert.match(
      json.warnings[0],
      /does not enable sources\.security: `shellfree lock` will not install the security update of libgreet1/,
    );
    assert.equal(stderr, `shellfree: warning: ${json.warnings[0]}\n`);
  });

  test("a spec without a lock: one-line error, exit 1", async () => {
    const dir = join(tmp, "nolock");
    await mkdir(dir);
    await writeFile(join(dir, "shellfree.yaml"), "name: x\nsuite: trixie\npackages:\n  include: [hello]\n");
    const r = await sf(["-q", "outdated", join(dir, "shellfree.yaml")]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^shellfree: .*nolock\/shellfree\.lock does not exist: outdated compares what a lock or an image holds with the archive/,
    );
    assert.match(r.stderr, /\nhint: run `shellfree lock`/);
  });

  test("a security mirror without <suite>-security: one-line error naming it, exit 1, and how to go on", async () => {
    await baseline();
    const r = await shellfree(
      [
        "-q",
        "outdated",
        join(specDir, "shellfree.lock"),
        "--mirror",
        main.url,
        "--security-mirror",
        main.url,
      ].concat(["--keyring", keyring, "--cache-dir", join(tmp, "cache")]),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `shellfree: suite trixie-security not found on ${main.url} (no InRelease or Release)\n` +
        "hint: give the security archive with --security-mirror, or compare without it: --no-security\n",
    );
  });

  test("a distroless-style image (status.d, written by hand) in a docker-archive", async () => {
    await publish(mainFiles, {
      trixie: MAIN.map((p) => (p.name === "hello" ? { ...p, version: "1.1-1" } : p)),
    });
    await publish(securityFiles, { "trixie-security": [...SECURITY, LIBGREET_FIX] });
    const para = (name: string, version: string, more = "") =>
      `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n${more}Maintainer: x\nDescription: x\n`;
    const img = await makeImage(join(tmp, "distroless"), {
      format: "docker-archive",
      files: [
        { path: "/usr/lib/os-release", data: "ID=debian\nVERSION_CODENAME=trixie\n" },
        { path: "/var/lib/dpkg/status.d/base-files", data: para("base-files", "13.8") },
        {
          path: "/var/lib/dpkg/status.d/base-files.md5sums",
          data: "d41d8cd98f00b204e9800998ecf8427e  etc/x\n",
        },
        { path: "/var/lib/dpkg/status.d/libgreet1", data: para("libgreet1", "1.0-1", "Source: greet\n") },
        { path: "/var/lib/dpkg/status.d/hello", data: para("hello", "1.0-1") },
        { path: "/var/lib/dpkg/status.d/local-tool", data: para("local-tool", "0.1") },
      ],
      symlinks: [{ path: "/etc/os-release", target: "../usr/lib/os-release" }],
      // a later layer removes hello: it is not installed any more
      layers: [{ files: [{ path: "/var/lib/dpkg/status.d/.wh.hello", data: "" }] }],
    });
    const { code, json } = await outdated([img.ref]);
    assert.equal(code, 10);
    assert.deepEqual(json.input, { kind: "image", ref: img.ref, spec: null });
    assert.deepEqual(brief(json), ["amd64 libgreet1 1.0-1 → 1.0-1+deb13u1 trixie-security security"]);
    assert.deepEqual(json.notInArchive, [{ architecture: "amd64", name: "local-tool", installed: "0.1" }]);
    assert.equal(json.summary.packages, 3);
    for (const u of json.updates) assert.equal(compareVersions(u.candidate, u.installed), 1);
    await baseline();
  });
});
