/**
 * Issue 17, item 7: temp files of killed processes do not stay in the cache. A build killed
 * while it writes layers, plus temps planted as dead processes leave them (new and old names,
 * fresh and hours old, in every cache folder), are gone after the next run; temps of a live
 * process and of another machine stay; nothing else in the cache is gone or changed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ownerString, selfOwner } from "../../../src/util/owner.ts";
import { lostOrChanged, snapshotTree } from "../../helpers/snapshot.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, CLI, mustSucceed, ROOT, shellfree } from "../builder/common.ts";

let dir = "";
before(async () => {
  dir = await tempDir("shellfree-temps-");
});
after(() => (dir ? removeDir(dir) : undefined));

/** A PID that certainly runs no more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.on("close", r));
  return child.pid as number;
}

function killAt(args: string[], marker: RegExp): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, SHELLFREE_QUIET: "0" },
    });
    let stderr = "";
    let killed = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (!killed && marker.test(stderr)) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (_c, signal) => {
      clearTimeout(timer);
      resolve(killed && signal === "SIGKILL");
    });
  });
}

const temps = (snap: Map<string, unknown>) => [...snap.keys()].filter((k) => /(^|\/)\.tmp-/.test(k)).sort();

test("the next run removes every temp of a dead process in the cache, and only those", async () => {
  // a private cache sharing only the verified .debs, so that layers are really compressed
  const cache = join(dir, "cache");
  mkdirSync(join(cache, "debs"), { recursive: true });
  symlinkSync(join(CACHE, "debs", "sha256"), join(cache, "debs", "sha256"));
  const squid = join(ROOT, "bench/squid/shellfree.yaml");
  const args = [
    "build",
    "-f",
    squid,
    "--arch",
    "amd64",
    "-o",
    `oci:${join(dir, "out")}`,
    "--cache-dir",
    cache,
  ];
  assert.ok(await killAt(args, /amd64: \d+ packages \(/), "the build was killed while it wrote layers");

  const dead = await deadPid();
  const self = selfOwner();
  const hours = (h: number) => (Date.now() - h * 3600_000) / 1000;
  const plant = (rel: string, ageHours = 0) => {
    const p = join(cache, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, "partial");
    if (ageHours) utimesSync(p, hours(ageHours), hours(ageHours));
  };
  const deadOwner = ownerString({ ...self, pid: dead, start: "12345" });
  const recycled = ownerString({ ...self, start: "1" }); // this PID, another start time
  const gone = [
    `build/blobs/sha256/.tmp-blob.${deadOwner}.0badc0de`,
    `build/blobs/sha256/.tmp-blob.${recycled}.0badc0df`,
    `build/blobs/sha256/.tmp-blob.${dead}.deadbeef`, // the older name: PID only
    `build/layers/.tmp-x.json.${deadOwner}.00c0ffee`,
    `indices/sha256/.tmp-abc.packages.${deadOwner}.11c0ffee`,
    `releases/.tmp-r.json.${deadOwner}.22c0ffee`,
  ];
  for (const [i, g] of gone.entries()) plant(g, i % 2 ? 3 : 0);
  const live = `build/blobs/sha256/.tmp-blob.${ownerString()}.33c0ffee`;
  const foreign = `build/blobs/sha256/.tmp-blob.${ownerString({ ...self, host: "abcdef" })}.44c0ffee`;
  plant(live);
  plant(foreign);

  const before = await snapshotTree(cache, (p) => p.startsWith("debs/sha256/"));
  assert.ok(temps(before).length >= gone.length + 2, temps(before).join("\n"));

  const r = await shellfree([
    "build",
    "--preset",
    "static",
    "-o",
    `oci:${join(dir, "static")}`,
    "--cache-dir",
    cache,
  ]);
  mustSucceed(r, "the next build");
  const afterRun = await snapshotTree(cache, (p) => p.startsWith("debs/sha256/"));
  assert.deepEqual(
    temps(afterRun),
    [foreign, live].sort(),
    "only the live process's and the other machine's temps",
  );
  const kept = new Map([...before].filter(([k]) => !/(^|\/)\.tmp-/.test(k)));
  assert.deepEqual(lostOrChanged(kept, afterRun), [], "nothing else in the cache gone or changed");
});
