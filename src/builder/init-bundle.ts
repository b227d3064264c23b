/**
 * Bundle shellfree-init (src/init/main.ts) into one dependency-free CommonJS file that runs as
 * `node /usr/lib/shellfree/init.js` inside images. Deterministic: same sources ⇒ same bytes
 * (no sourcemap, no timestamps, no absolute paths). Memoized per process.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ENTRY = fileURLToPath(new URL("../init/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let memo: Promise<Uint8Array> | undefined;

export function initVersion(): string {
  return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
}

export function bundleInit(): Promise<Uint8Array> {
  memo ??= (async () => {
    // loaded here: only builds with an `init:` section (and `init-bundle`) need esbuild
    const { build } = await import("esbuild");
    const r = await build({
      entryPoints: [ENTRY],
      absWorkingDir: ROOT,
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      write: false,
      sourcemap: false,
      legalComments: "none",
      charset: "utf8",
      logLevel: "silent",
      banner: { js: `/* shellfree-init ${initVersion()} (bundled; do not edit) */` },
      define: { SHELLFREE_INIT_VERSION: JSON.stringify(initVersion()) },
    });
    const out = r.outputFiles[0];
    if (!out || r.outputFiles.length !== 1) throw new Error("esbuild produced no single output file");
    return out.contents;
  })();
  memo.catch(() => {
    memo = undefined;
  });
  return memo;
}
