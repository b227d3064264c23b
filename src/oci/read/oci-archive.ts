/**
 * An oci-archive (a tar of an OCI image layout) unpacked into a directory, for the commands that
 * work on a layout directory (push). Only the layout's own files are taken — `oci-layout`,
 * `index.json` and `blobs/ALG/HEX` — so no member can land outside the directory; the blobs are
 * checked against their digests when they are read, as for any layout.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { OciError } from "../errors.ts";
import { indexTar } from "./tar-index.ts";

const LAYOUT_FILE = /^(?:oci-layout|index\.json|blobs\/[a-z0-9]+\/[a-f0-9]{32,128})$/;

/** Unpack the layout files of the oci-archive `file` into `dir` (which must be empty or absent). */
export async function unpackOciArchive(file: string, dir: string): Promise<void> {
  const path = resolve(file);
  const members = await indexTar(path);
  if (!members.has("index.json"))
    throw new OciError("E_LAYOUT", `${path} is not an oci-archive (no index.json in it)`);
  for (const [name, m] of members) {
    if (!LAYOUT_FILE.test(name)) continue;
    const to = join(dir, name);
    await mkdir(join(to, ".."), { recursive: true });
    await pipeline(
      m.size === 0 ? [] : createReadStream(path, { start: m.offset, end: m.offset + m.size - 1 }),
      createWriteStream(to, { flags: "wx" }),
    );
  }
}
