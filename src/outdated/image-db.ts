/**
 * The dpkg database and os-release of an image, read straight from its layers: each layer's tar
 * stream is read once, in order, keeping only `/var/lib/dpkg/status`, `/var/lib/dpkg/status.d/*`,
 * `/etc/os-release` and `/usr/lib/os-release`, with OCI whiteouts applied (`.wh.NAME` deletes
 * NAME, `.wh..wh..opq` hides what lower layers put in that directory). Nothing is unpacked.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { debianArch as formatsDebianArch, parseOsRelease } from "../formats/index.ts";
import type { OpenedImage } from "../oci/index.ts";
import { isStatusDParagraphFile, mergeInstalled, parseDpkgStatus } from "./dpkg-status.ts";
import { OutdatedError } from "./errors.ts";
import type { InstalledPackage } from "./types.ts";

const STATUS = "var/lib/dpkg/status";
const STATUS_D = "var/lib/dpkg/status.d/";
const OS_RELEASE = ["etc/os-release", "usr/lib/os-release"];
/** a single file kept larger than this is refused (a status file of 10,000 packages is ~30 MB) */
const MAX_FILE = 128 * 1024 * 1024;

type Kept =
  | { layer: number; kind: "file"; data: Buffer }
  | { layer: number; kind: "symlink"; target: string };

/** "./a//b/" → "a/b"; ".." is resolved without leaving the root. */
export function cleanPath(name: string): string {
  const out: string[] = [];
  for (const s of name.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return out.join("/");
}

/** the directories above the kept paths: replacing one by a file or symlink hides what is below */
const ANCESTORS = new Set([
  "var",
  "var/lib",
  "var/lib/dpkg",
  "var/lib/dpkg/status.d",
  "etc",
  "usr",
  "usr/lib",
]);

function wanted(p: string): boolean {
  if (p === STATUS || OS_RELEASE.includes(p)) return true;
  return p.startsWith(STATUS_D) && !p.slice(STATUS_D.length).includes("/");
}

/** Drop what layers below `layer` put at `path` and under it. */
function removeBelow(kept: Map<string, Kept>, path: string, layer: number, self: boolean): void {
  const prefix = path === "" ? "" : `${path}/`;
  for (const [p, k] of kept) {
    if (k.layer < layer && ((self && p === path) || p.startsWith(prefix))) kept.delete(p);
  }
}

async function readLayer(
  kept: Map<string, Kept>,
  layer: number,
  stream: Readable,
  what: string,
): Promise<void> {
  const extract = tar.extract();
  const consume = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const path = cleanPath(h.name);
      const slash = path.lastIndexOf("/");
      const base = path.slice(slash + 1);
      const dir = slash < 0 ? "" : path.slice(0, slash);
      if (base === ".wh..wh..opq") removeBelow(kept, dir, layer, false);
      else if (base.startsWith(".wh.")) {
        const target = dir ? `${dir}/${base.slice(4)}` : base.slice(4);
        removeBelow(kept, target, layer, true);
      } else if (path !== "") {
        // anything but a directory replaces what lower layers had at and below its path
        if (h.type !== "directory" && (ANCESTORS.has(path) || wanted(path)))
          removeBelow(kept, path, layer, true);
        if (wanted(path)) {
          if (h.type === "file" || h.type === "contiguous-file") {
            if ((h.size ?? 0) > MAX_FILE) {
              throw new OutdatedError("E_DPKG_DB", `${what}: /${path} is larger than ${MAX_FILE >> 20} MiB`);
            }
            const chunks: Buffer[] = [];
            for await (const c of entry) chunks.push(c as Buffer);
            kept.set(path, { layer, kind: "file", data: Buffer.concat(chunks) });
            continue;
          }
          if (h.type === "symlink") kept.set(path, { layer, kind: "symlink", target: h.linkname ?? "" });
          else if (h.type === "link") {
            const t = kept.get(cleanPath(h.linkname ?? ""));
            if (t) kept.set(path, { ...t, layer });
          }
        }
      }
      entry.resume();
    }
  })();
  try {
    await Promise.all([pipeline(stream, extract), consume]);
  } catch (e) {
    if (e instanceof OutdatedError) throw e;
    throw new OutdatedError("E_DPKG_DB", `${what}: cannot read layer ${layer}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** A kept file's content, following symlinks among the kept paths (absolute or relative). */
function contentOf(kept: Map<string, Kept>, path: string): Buffer | undefined {
  let p = path;
  for (let hops = 0; hops < 8; hops++) {
    const k = kept.get(p);
    if (!k) return undefined;
    if (k.kind === "file") return k.data;
    const base = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    p = cleanPath(k.target.startsWith("/") ? k.target : `${base}/${k.target}`);
  }
  return undefined;
}

export interface ImageDb {
  packages: InstalledPackage[];
  /** os-release fields (empty when the image has none) */
  osRelease: Map<string, string>;
}

/** The installed packages and os-release of one opened image (`what` names it in errors). */
export async function readImageDb(image: OpenedImage, what: string): Promise<ImageDb> {
  const kept = new Map<string, Kept>();
  for (let i = 0; i < image.layers.length; i++) {
    await readLayer(kept, i, await image.layers[i].open(), what);
  }
  const lists: InstalledPackage[][] = [];
  const status = contentOf(kept, STATUS);
  if (status) lists.push(parseDpkgStatus(status.toString("utf8"), `${what}: /${STATUS}`));
  const statusD = [...kept.keys()]
    .filter((p) => p.startsWith(STATUS_D) && isStatusDParagraphFile(p.slice(STATUS_D.length)))
    .sort();
  for (const p of statusD) {
    const data = contentOf(kept, p);
    if (data) lists.push(parseDpkgStatus(data.toString("utf8"), `${what}: /${p}`));
  }
  if (!status && statusD.length === 0) {
    throw new OutdatedError(
      "E_DPKG_DB",
      `${what}: no dpkg database (/${STATUS} or /${STATUS_D}): cannot tell which Debian packages it holds`,
      { hint: "give the spec or shellfree.lock the image was built from" },
    );
  }
  let osText: Buffer | undefined;
  for (const p of OS_RELEASE) {
    osText = contentOf(kept, p);
    if (osText) break;
  }
  return {
    packages: mergeInstalled(lists),
    osRelease: parseOsRelease(osText?.toString("utf8") ?? ""),
  };
}

/** OCI architecture (+ variant) → Debian architecture. */
export function debianArch(arch: string, variant?: string): string {
  return formatsDebianArch(arch, variant);
}
