// Write the shellfree-init bundle: node scripts/bundle-init.ts [OUT] (default out/init.js, git-ignored).
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { bundleInit } from "../src/builder/init-bundle.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

const out = resolve(process.argv[2] ?? "out/init.js");
const bytes = await bundleInit();
await writeFileAtomic(out, bytes, 0o644);
const sha = createHash("sha256").update(bytes).digest("hex");
process.stdout.write(`${out} ${bytes.length} bytes sha256:${sha}\n`);
