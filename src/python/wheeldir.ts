/**
 * A local directory of wheels (the spec's `python.wheels`, a requirements file's
 * `--find-links`): its `.whl` files (and sdists, for the error that names them), each with the
 * sha256 of its bytes as its stated hash. Sub-directories are not searched.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { PythonError } from "./errors.ts";
import type { DistFile } from "./types.ts";
import { isSdistName } from "./wheelname.ts";

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

/** The distribution files in `dir`, sorted by name. */
export async function listWheelDir(dir: string): Promise<DistFile[]> {
  const abs = resolve(dir);
  let names: string[];
  try {
    names = await readdir(abs);
  } catch (e) {
    throw new PythonError(
      "E_WHEEL_DIR",
      `cannot read the wheel directory ${abs}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  const out: DistFile[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith(".whl") && !isSdistName(name)) continue;
    const path = join(abs, name);
    const st = await stat(path);
    if (!st.isFile()) continue;
    out.push({
      filename: name,
      path,
      hashes: [{ algorithm: "sha256", hex: await sha256File(path) }],
      size: st.size,
      origin: `directory ${abs}`,
    });
  }
  return out;
}
