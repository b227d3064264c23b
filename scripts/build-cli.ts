/**
 * Build the CLI's JavaScript bundle: dist/cli/ (git-ignored; what the npm package ships).
 *
 *   main.js          the entry bin/shellfree loads: commander and the command table
 *   <name>-<hash>.js one lazily loaded chunk per command, and the chunks they share
 *   <x>-worker.js    every src/**\/*-worker.ts, a worker thread's own entry (src/util/worker-url.ts)
 *   commands.json    each command's name, help term and summary, for `shellfree --help`
 *                    without loading every command (src/cli/manifest.ts)
 *   stamp.json       the sources the bundle was made from, with their sizes and times:
 *                    bin/shellfree runs the sources instead while one of them has changed
 *
 * esbuild bundles the TypeScript and the libraries (ESM, splitting, node22); the whole directory
 * is written beside dist/cli and renamed into place (util/atomic.ts writeDirAtomic), so a reader
 * sees the old bundle or the new one, and a failed build leaves the old one.
 *
 *   node scripts/build-cli.ts      (npm run build; also before npm test and npm pack)
 */
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { build } from "esbuild";
import { commandManifest, MANIFEST_FILE } from "../src/cli/manifest.ts";
import { writeDirAtomic } from "../src/util/atomic.ts";

/** bin/shellfree reads this: each source's size and time when the bundle was made. */
const STAMP_FILE = "stamp.json";
type BundleStamp = { files: Record<string, { size: number; mtimeMs: number }> };

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "dist", "cli");

function workerEntries(dir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) found.push(...workerEntries(p));
    else if (e.name.endsWith("-worker.ts")) found.push(p);
  }
  return found;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const entryPoints: Record<string, string> = { main: join(ROOT, "src/cli/main.ts") };
  for (const w of workerEntries(join(ROOT, "src"))) {
    const name = basename(w, ".ts");
    if (entryPoints[name]) throw new Error(`two workers named ${name}: ${entryPoints[name]} and ${w}`);
    entryPoints[name] = w;
  }
  let outputs: Record<string, { bytes: number }> = {};
  let inputs: string[] = [];
  await writeDirAtomic(OUT, async (stage) => {
    const result = await build({
      entryPoints,
      outdir: stage,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node22",
      chunkNames: "[name]-[hash]",
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: "eof",
      metafile: true,
      logLevel: "warning",
      // libraries written as CommonJS call require() for Node's own modules
      banner: {
        js: 'import { createRequire as __sfCreateRequire } from "node:module"; const require = __sfCreateRequire(import.meta.url);',
      },
    });
    outputs = result.metafile.outputs;
    inputs = Object.keys(result.metafile.inputs)
      .map((p) => relative(ROOT, join(process.cwd(), p)))
      .filter((p) => p.startsWith("src/"))
      .sort();
    const files: BundleStamp["files"] = {};
    for (const p of [...inputs, "package-lock.json"]) {
      const st = statSync(join(ROOT, p));
      files[p] = { size: st.size, mtimeMs: st.mtimeMs };
    }
    const stamp: BundleStamp = { files };
    writeFileSync(join(stage, STAMP_FILE), `${JSON.stringify(stamp)}\n`);
    writeFileSync(join(stage, MANIFEST_FILE), `${JSON.stringify(await commandManifest(), null, 1)}\n`);
  });
  const bytes = Object.values(outputs).reduce((n, o) => n + o.bytes, 0);
  console.error(
    `dist/cli: ${Object.keys(outputs).length} files, ${(bytes / 1048576).toFixed(1)} MiB, ${inputs.length} sources, ${Math.round(performance.now() - t0)} ms`,
  );
}

await main();
