/**
 * The CLI bundle (dist/cli/, made by `npm run build`, which `npm test` runs first): bin/shellfree
 * runs it while it matches the sources, and it behaves as the sources do. Every other CLI test
 * runs the bundle through bin/shellfree; these compare it with the sources (SHELLFREE_SOURCES=1)
 * and check the launcher's choice between them.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT, shellfree } from "../../helpers/cli.ts";
import { tiniImage } from "../../helpers/images.ts";
import { runCommand } from "../../helpers/run.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";

const SOURCES = { SHELLFREE_SOURCES: "1" };

/** Fails unless dist/cli is the bundle of the sources as they are (else both runs below are the sources). */
function assertBundleFresh(root: string): void {
  let stamp: { files: Record<string, { size: number; mtimeMs: number }> };
  try {
    stamp = JSON.parse(readFileSync(join(root, "dist/cli/stamp.json"), "utf8"));
  } catch {
    assert.fail("no dist/cli/stamp.json: run `npm run build` (npm test does)");
  }
  for (const [file, was] of Object.entries(stamp.files)) {
    const st = statSync(join(root, file), { throwIfNoEntry: false });
    assert.ok(
      st && st.size === was.size && st.mtimeMs === was.mtimeMs,
      `${file} changed since \`npm run build\``,
    );
  }
}

async function both(args: string[], opts: { cwd?: string } = {}) {
  const bundle = await shellfree(args, { env: { NO_COLOR: "1" }, ...opts });
  const sources = await shellfree(args, { env: { NO_COLOR: "1", ...SOURCES }, ...opts });
  return { bundle, sources };
}

describe("CLI bundle", () => {
  before(() => assertBundleFresh(ROOT));

  it("prints the same help, version and usage errors as the sources", async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "dist/cli/commands.json"), "utf8")) as Array<{
      name: string;
    }>;
    assert.ok(manifest.length >= 15, `dist/cli/commands.json lists ${manifest.length} commands`);
    const cases = [
      ["--version"],
      ["--help"],
      [],
      ["help"],
      ["help", "verify"],
      ["bogus"],
      ["verfy", "x"],
      ["debian", "--help"],
      ["completion", "bash"],
      ...manifest.map((m) => [m.name, "--help"]),
    ];
    for (const args of cases) {
      const { bundle, sources } = await both(args);
      const what = `shellfree ${args.join(" ")}`;
      assert.equal(bundle.stdout, sources.stdout, `${what}: stdout`);
      assert.equal(bundle.stderr, sources.stderr, `${what}: stderr`);
      assert.equal(bundle.code, sources.code, `${what}: exit code`);
    }
  });

  it("verifies an image as the sources do (text and JSON)", async (t) => {
    const dir = await tempDir("sf-bundle-", t);
    const { ref } = await tiniImage(dir);
    for (const args of [
      ["verify", ref],
      ["verify", "--json", ref],
      ["inspect", ref],
    ]) {
      const { bundle, sources } = await both(args);
      // (the reports say how long verify took)
      const untimed = (s: string) =>
        s.replace(/; \d+ ms$/m, "; N ms").replace(/"durationMs": \d+/, '"durationMs": N');
      assert.equal(untimed(bundle.stdout), untimed(sources.stdout), `${args.join(" ")}: stdout`);
      assert.equal(bundle.code, sources.code, `${args.join(" ")}: exit code`);
      assert.ok(bundle.stdout.length > 0, `${args.join(" ")}: prints a report`);
    }
  });

  it("is what the npm package ships, without the sources", async () => {
    const r = await runCommand("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map(
      (f) => f.path,
    );
    for (const want of [
      "bin/shellfree",
      "dist/cli/main.js",
      "dist/cli/commands.json",
      "dist/cli/xz-worker.js",
    ]) {
      assert.ok(files.includes(want), `the package has ${want}`);
    }
    assert.deepEqual(
      files.filter((f) => f.startsWith("src/")),
      [],
      "the package has no TypeScript sources",
    );
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(
      pkg.dependencies.node,
      undefined,
      "no Node.js binary is downloaded when the package is installed",
    );
  });
});

describe("launcher", () => {
  // a copy of the checkout's launcher, bundle and sources (times kept), whose main.js says "bundle"
  let copy: string;
  before(async () => {
    copy = await tempDir("sf-launcher-");
    mkdirSync(join(copy, "dist"));
    // (cp -a keeps the times to the nanosecond, as the stamp has them)
    for (const p of ["bin", "dist/cli", "src", "package.json", "package-lock.json"]) {
      await runCommand("cp", ["-a", join(ROOT, p), join(copy, p)]);
    }
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    writeFileSync(join(copy, "dist/cli/main.js"), 'console.log("bundle");\n');
    mkdirSync(join(copy, "dist/init"), { recursive: true });
  });
  after(() => removeDir(copy));
  const run = (env: NodeJS.ProcessEnv = {}) =>
    runCommand(process.execPath, [join(copy, "bin/shellfree"), "--version"], {
      env: { ...process.env, ...env },
    });
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

  it("runs the bundle while the sources are the ones it was made of", async () => {
    assertBundleFresh(copy);
    assert.equal((await run()).stdout, "bundle\n");
  });

  it("runs the sources when SHELLFREE_SOURCES=1", async () => {
    assert.equal((await run(SOURCES)).stdout, `${version}\n`);
  });

  it("runs the sources once a source file has changed", async () => {
    const file = join(copy, "src/util/xml.ts");
    const was = statSync(file);
    utimesSync(file, was.atime, new Date(was.mtimeMs + 5000));
    assert.equal((await run()).stdout, `${version}\n`, "an edited source makes the bundle stale");
  });

  it("runs the bundle of a package (no sources to compare with)", async () => {
    rmSync(join(copy, "src"), { recursive: true });
    assert.equal((await run()).stdout, "bundle\n");
  });
});
