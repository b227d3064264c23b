/**
 * Differential test: `shellfree debian version-compare` against `dpkg --compare-versions` on
 * version pairs taken from the real trixie Packages index (neighbours in sorted order, which
 * differ in the last details, plus seeded random pairs) and hand-made edge cases. Zero
 * differences allowed. Where dpkg refuses a version (error) or only warns about it, shellfree
 * must print `error: <reason>` for the line. (The one deliberate difference: dpkg reads an empty
 * argument as "no version" for maintainer scripts; in this line format an empty field is an
 * error, so it is not among the cases.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadUniverse } from "../../../src/debian/archive.ts";
import { compareVersions } from "../../../src/debian/version.ts";
import { setQuiet } from "../../../src/util/progress.ts";
import { CLI } from "../../helpers/cli.ts";
import { archiveOptions } from "../../helpers/mirror.ts";

setQuiet(true);
const dir = mkdtempSync(join(tmpdir(), "sf-vercmp-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const EDGE: Array<[string, string]> = [
  ["1.0", "1.0"],
  ["1.0~rc1", "1.0"],
  ["1.0~~", "1.0~"],
  ["1.0~", "1.0"],
  ["1.0", "1.0+b1"],
  ["1.0a", "1.0+"],
  ["1.0-1", "1.0-1.1"],
  ["1:1.0", "2.0"],
  ["0:1.0", "1.0"],
  ["10:1", "9:99"],
  ["2147483647:1", "1"],
  ["1.00", "1.0"],
  ["1.010", "1.9"],
  ["99999999999999999999999999", "99999999999999999999999998"],
  ["000000000000000000000000001", "1"],
  ["1.2-3-4", "1.2-3-5"],
  ["1:2:3", "1:2:4"],
  ["1.A", "1.a"],
  ["1.z", "1.+"],
  ["1~", "1~~"],
  ["0.0", "0"],
  ["1.0-0", "1.0"],
  ["1.0+~", "1.0+"],
  ["7.88.1-10+deb12u5", "7.88.1-10+deb12u12"],
  ["3.0.13-1~deb12u1", "3.0.13-1"],
  ["2.30-1", "2.30-1~bpo12+1"],
  ["+1:1", "1:1"],
  ["0x1:1", "1"],
  // invalid or warned about by dpkg (versions starting with '-' are not here: dpkg's command
  // line takes them for options; the unit tests cover them)
  ["1", "   "],
  ["1.0 2", "1"],
  [":1.0", "1"],
  ["a:1.0", "1"],
  ["1a:1.0", "1"],
  ["-1:1.0", "1"],
  ["2147483648:1.0", "1"],
  ["99999999999999999999:1", "1"],
  ["1:", "1"],
  ["1.0-", "1"],
  ["-1", "1"],
  ["1:-1", "1"],
  ["a1.0", "1"],
  ["1.0_1", "1"],
  ["1.0-a_b", "1"],
  ["1.0-1_2", "1"],
  ["1", "~1"],
  ["1", "1.0@2"],
];

/** A small seeded PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** dpkg's answer for each pair: "-1", "0", "1", or "error" when it refuses or warns. */
function dpkgAnswers(pairs: Array<[string, string]>): string[] {
  const input = join(dir, "pairs.tsv");
  writeFileSync(input, pairs.map(([a, b]) => `${a}\t${b}\n`).join(""));
  const script = `
while IFS=$'\\t' read -r a b; do
  err=$(dpkg --compare-versions "$a" lt "$b" 2>&1 >/dev/null); rc=$?
  if [ -n "$err" ] || [ $rc -gt 1 ]; then echo error; continue; fi
  if [ $rc -eq 0 ]; then echo -1; continue; fi
  if dpkg --compare-versions "$a" gt "$b" 2>/dev/null; then echo 1; else echo 0; fi
done <"$1"`;
  const r = spawnSync("bash", ["-c", script, "bash", input], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.split("\n").slice(0, -1);
  assert.equal(out.length, pairs.length);
  return out;
}

test("version-compare agrees with dpkg --compare-versions on real and edge-case pairs", async () => {
  const u = await loadUniverse(archiveOptions("trixie", "amd64"));
  const versions = [...new Set(u.packages.map((p) => p.version))].sort(compareVersions);
  assert.ok(versions.length > 10_000, `only ${versions.length} distinct versions`);
  const rand = rng(20261123);
  const pairs: Array<[string, string]> = [];
  // neighbours in sorted order: the closest calls (~1500)
  const step = Math.max(1, Math.floor(versions.length / 1500));
  for (let i = 0; i + 1 < versions.length; i += step) pairs.push([versions[i], versions[i + 1]]);
  // versions of the same source package family: same upstream prefix, different revisions
  const byPrefix = new Map<string, string[]>();
  for (const v of versions) {
    const k = v.replace(/[-+~].*$/, "");
    const l = byPrefix.get(k);
    if (l) l.push(v);
    else byPrefix.set(k, [v]);
  }
  const families = [...byPrefix.values()].filter((l) => l.length > 1);
  for (let i = 0; i < 600; i++) {
    const f = families[Math.floor(rand() * families.length)];
    pairs.push([f[Math.floor(rand() * f.length)], f[Math.floor(rand() * f.length)]]);
  }
  // random pairs, and each pair reversed now and then
  for (let i = 0; i < 900; i++) {
    const a = versions[Math.floor(rand() * versions.length)];
    const b = versions[Math.floor(rand() * versions.length)];
    pairs.push(rand() < 0.5 ? [a, b] : [b, a]);
  }
  const real = pairs.length;
  assert.ok(real >= 2000, `only ${real} real pairs`);
  pairs.push(...EDGE);

  const want = dpkgAnswers(pairs);
  const r = spawnSync(CLI, ["debian", "version-compare"], {
    input: pairs.map(([a, b]) => `${a}\t${b}\n`).join(""),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const got = r.stdout.split("\n").slice(0, -1);
  assert.equal(got.length, pairs.length, r.stderr);
  const diffs: string[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const ok = want[i] === "error" ? got[i].startsWith("error: ") : got[i] === want[i];
    if (!ok) diffs.push(`${JSON.stringify(pairs[i])}: dpkg ${want[i]}, shellfree ${got[i]}`);
  }
  assert.deepEqual(diffs, [], `${diffs.length} differences`);
  // the edge cases include invalid versions, so the exit status is 1; real pairs alone give 0
  assert.equal(r.status, 1);
  assert.ok(
    want.slice(0, real).every((w) => w !== "error"),
    "a real version was refused by dpkg",
  );
  assert.ok(new Set(want.slice(0, real)).size === 3, "real pairs should cover -1, 0 and 1");
  const clean = spawnSync(CLI, ["debian", "version-compare"], {
    input: pairs
      .slice(0, 50)
      .map(([a, b]) => `${a}\t${b}\n`)
      .join(""),
    encoding: "utf8",
  });
  assert.equal(clean.status, 0, clean.stderr);
});
