/**
 * Differential test: `shellfree resolve` against apt itself. apt runs with a private
 * configuration (no host apt.conf.d, no preferences), an empty dpkg status, only the
 * architecture resolved, Recommends off (or on, for the --with-recommends cases), and the same
 * sources in the same order; its `install --simulate` lines are compared with shellfree's
 * closure: the same package names and versions, none more, none less.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DEFAULT_KEYRING, loadUniverse } from "../../../src/debian/archive.ts";
import { resolve } from "../../../src/debian/resolve.ts";
import type { AptSource, PackageUniverse } from "../../../src/debian/types.ts";
import { compareVersions } from "../../../src/debian/version.ts";
import { setQuiet } from "../../../src/util/progress.ts";
import { CLI } from "../../helpers/cli.ts";
import { archiveOptions, TEST_CACHE } from "../../helpers/mirror.ts";

setQuiet(true);
const root = mkdtempSync(join(tmpdir(), "sf-resolve-apt-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A private apt for `sources`: returns a function running apt-get with it. */
function privateApt(name: string, sources: AptSource[], arch: string) {
  const d = join(root, name);
  for (const sub of ["lists/partial", "cache/archives/partial", "parts", "prefs"]) {
    mkdirSync(join(d, sub), { recursive: true });
  }
  writeFileSync(join(d, "status"), "");
  writeFileSync(
    join(d, "sources.list"),
    sources
      .map((s) => `deb [signed-by=${DEFAULT_KEYRING}] ${s.uri} ${s.suite} ${s.components.join(" ")}\n`)
      .join(""),
  );
  writeFileSync(
    join(d, "apt.conf"),
    `Dir::Etc::Parts "${d}/parts";
Dir::Etc::Main "/dev/null";
Dir::Etc::SourceList "${d}/sources.list";
Dir::Etc::SourceParts "${d}/parts";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "${d}/prefs";
Dir::State::status "${d}/status";
Dir::State::Lists "${d}/lists";
Dir::State::extended_states "${d}/extended_states";
Dir::Cache "${d}/cache";
APT::Architecture "${arch}";
APT::Architectures { "${arch}"; };
Acquire::Languages "none";
APT::Install-Suggests "false";
Debug::NoLocking "true";
`,
  );
  const env = { ...process.env, APT_CONFIG: join(d, "apt.conf"), LC_ALL: "C" };
  return (args: string[]) => {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, `apt-get ${args.join(" ")}: ${r.stderr}${r.stdout.slice(-2000)}`);
    return r.stdout;
  };
}

/** "name version" lines apt would install. */
function aptClosure(apt: (a: string[]) => string, request: string[], recommends: boolean): string[] {
  const out = apt(["-s", "-q", "-o", `APT::Install-Recommends=${recommends}`, "install", ...request]);
  return out
    .split("\n")
    .filter((l) => l.startsWith("Inst "))
    .map((l) => {
      const m = /^Inst (\S+) \((\S+) /.exec(l);
      assert.ok(m, l);
      return `${m[1]} ${m[2]}`;
    })
    .sort();
}

function compare(u: PackageUniverse, apt: (a: string[]) => string, request: string[], recommends = false) {
  const want = aptClosure(apt, request, recommends);
  const got = resolve(u, request, { withRecommends: recommends })
    .packages.map((p) => `${p.name} ${p.version}`)
    .sort();
  const missing = want.filter((x) => !got.includes(x));
  const extra = got.filter((x) => !want.includes(x));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${request.join(" ")}`);
  assert.ok(got.length > 0);
  return got.length;
}

const REQUESTS = [
  ["squid-openssl"],
  ["python3.13-minimal"],
  ["ca-certificates"],
  ["curl"],
  ["openssh-server"],
  ["nginx"],
  ["postgresql"],
  ["git"],
  ["exim4"], // virtual packages and alternatives (mail-transport-agent, default-mta)
  ["default-jdk-headless"],
  ["libc6", "libssl3t64", "tzdata", "ca-certificates"], // the `base` preset
  ["gnome-core"], // ~1,000 packages: virtual providers with equal rank (cache order decides)
];

describe("shellfree resolve = apt (empty status, no Recommends)", () => {
  test("trixie main amd64", async () => {
    const opts = archiveOptions("trixie", "amd64");
    const apt = privateApt("trixie", opts.sources, "amd64");
    apt(["-q", "update"]);
    const u = await loadUniverse(opts);
    for (const req of REQUESTS) compare(u, apt, req);
    // with Recommends, as apt's default
    for (const req of [["squid-openssl"], ["curl"], ["git"]]) compare(u, apt, req, true);
  });

  test("trixie + trixie-security arm64: highest version across suites", async () => {
    const opts = archiveOptions("trixie", "arm64", { security: true });
    assert.equal(opts.sources.length, 2);
    const apt = privateApt("trixie-sec-arm64", opts.sources, "arm64");
    apt(["-q", "update"]);
    const u = await loadUniverse(opts);
    for (const req of [["squid-openssl"], ["curl"], ["openssh-server"], ["python3"]]) compare(u, apt, req);
    // pins: the oldest libssl3t64 / openssl the two suites have (the versions are read from the
    // archive now, never typed in), alone and with packages that depend on them
    const oldest = (name: string) =>
      u.packages
        .filter((p) => p.name === name)
        .map((p) => p.version)
        .sort(compareVersions)[0];
    const ssl = oldest("libssl3t64");
    const openssl = oldest("openssl");
    assert.ok(ssl && openssl);
    for (const req of [
      ["curl", `libssl3t64=${ssl}`],
      [`openssl=${openssl}`],
      ["openssl", `libssl3t64=${ssl}`],
    ]) {
      compare(u, apt, req);
    }
    const pinned = resolve(u, ["curl", `libssl3t64=${ssl}`]).packages.find((p) => p.name === "libssl3t64");
    assert.equal(pinned?.version, ssl);
  });

  test("the CLI prints the same closure, sorted, as text and JSON", () => {
    const base = ["resolve", "--suite", "trixie", "--arch", "amd64", "--cache-dir", TEST_CACHE, "curl"];
    const text = spawnSync(CLI, ["-q", ...base], { encoding: "utf8" });
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.trim().split("\n");
    assert.ok(lines.length > 20);
    assert.deepEqual([...lines].sort(), lines);
    for (const l of lines) assert.match(l, /^[a-z0-9][a-z0-9+.-]* \S+ (amd64|all)$/);
    const json = spawnSync(CLI, ["-q", ...base, "--json"], { encoding: "utf8" });
    assert.equal(json.status, 0, json.stderr);
    const arr = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      arr.map((p) => `${p.name} ${p.version} ${p.architecture}`),
      lines,
    );
    for (const p of arr) {
      assert.deepEqual(Object.keys(p).sort(), [
        "architecture",
        "filename",
        "name",
        "sha256",
        "size",
        "version",
      ]);
      assert.match(String(p.sha256), /^[0-9a-f]{64}$/);
    }
    const ex = spawnSync(CLI, [...base.slice(0, -1), "--exclude", "libssl3t64,nope", "curl"], {
      encoding: "utf8",
    });
    assert.equal(ex.status, 0, ex.stderr);
    assert.ok(!ex.stdout.includes("libssl3t64 "));
    assert.match(ex.stderr, /excluded libssl3t64 \(wanted by [^)]*libcurl4t64/);
  });

  test("an unsatisfiable request names its chain and exits 1", () => {
    const r = spawnSync(
      CLI,
      ["resolve", "--suite", "trixie", "--cache-dir", TEST_CACHE, "curl", "libc6=0.0-0"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^shellfree: version 0\.0-0 of libc6 is not in the archive/m);
    const u = spawnSync(
      CLI,
      ["resolve", "--suite", "trixie", "--cache-dir", TEST_CACHE, "no-such-package-x"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(u.status, 1);
    assert.match(u.stderr, /package no-such-package-x is not in the archive/);
  });
});
