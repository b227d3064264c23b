/**
 * The spec's `files:` (files and directories of the build host) as a layer, and the list of
 * what it copied (path, SHA-256, SHA-1, where declared) for the SBOMs: these files belong to
 * no package.
 *
 * Modes (see FileSpec): `file-mode` / `dir-mode` set files / directories exactly; `mode` sets
 * files' read and write bits and keeps an executable's x bits (where the mode grants r), and
 * gives directories that mode with x where r is; with neither, host modes are normalised — a
 * file 0755 when any x bit is set on the host, else 0644, a directory 0755 — so that a host
 * umask (0600 files, 0700 directories) cannot make the app unreadable to a non-root user, and
 * no host set-id or sticky bit reaches the image.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { writeLayer } from "../oci/index.ts";
import type { FileSpec } from "../spec/index.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { BuildError } from "./errors.ts";
import { GeneratedLayer, type RootfsPlan } from "./rootfs.ts";

/** A file `files:` put in the image. */
export interface LocalFile {
  /** absolute path in the image */
  path: string;
  sha256: string;
  sha1: string;
  size: number;
  /** the spec's `files:` entry (file:line) */
  where: string;
}

export async function filesLayer(
  ctx: ArchContext,
  plan: RootfsPlan,
): Promise<{ layer: BuiltLayer; files: LocalFile[] } | undefined> {
  const specs = ctx.spec.files;
  if (!specs.length) return undefined;
  const gen = new GeneratedLayer(plan);
  const copied: LocalFile[] = [];
  for (const file of specs) await addLocalFiles(gen, file, copied);
  const layer = await writeLayer(gen.list(), {
    compression: ctx.compression,
    sourceDateEpoch: ctx.sourceDateEpoch,
    blobDir: ctx.blobDir,
  });
  // a later entry may replace an earlier one's file: the SBOM lists what is in the image
  const byPath = new Map(copied.map((f) => [f.path, f]));
  return {
    layer: { name: "files", layer, cached: false, comment: `files: ${specs.map((f) => f.dest).join(" ")}` },
    files: [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  };
}

/** The mode a host file gets in the image. */
export function fileModeFor(spec: Pick<FileSpec, "mode" | "fileMode">, hostMode: number): number {
  if (spec.fileMode !== undefined) return spec.fileMode;
  const executable = (hostMode & 0o111) !== 0;
  if (spec.mode !== undefined) return executable ? withReadersExec(spec.mode) : spec.mode;
  return executable ? 0o755 : 0o644;
}

/** The mode a host directory gets in the image. */
export function dirModeFor(spec: Pick<FileSpec, "mode" | "dirMode">): number {
  if (spec.dirMode !== undefined) return spec.dirMode;
  if (spec.mode !== undefined) return withReadersExec(spec.mode);
  return 0o755;
}

/** `mode` with x added wherever r is (0644 → 0755, 0640 → 0750, 0600 → 0700). */
function withReadersExec(mode: number): number {
  let m = mode & 0o7777;
  if (m & 0o400) m |= 0o100;
  if (m & 0o040) m |= 0o010;
  if (m & 0o004) m |= 0o001;
  return m;
}

async function digests(path: string): Promise<{ sha256: string; sha1: string }> {
  const a = createHash("sha256");
  const b = createHash("sha1");
  for await (const chunk of createReadStream(path)) {
    a.update(chunk as Buffer);
    b.update(chunk as Buffer);
  }
  return { sha256: a.digest("hex"), sha1: b.digest("hex") };
}

/** Walk a local file or directory given in `files:` into entries under `dest`. */
async function addLocalFiles(gen: GeneratedLayer, file: FileSpec, copied: LocalFile[]): Promise<void> {
  const st = await lstat(file.src).catch(() => null);
  if (!st)
    throw new BuildError("E_FILE_MISSING", `${file.where}: files: local file ${file.src} does not exist`);
  const add = async (src: string, dest: string) => {
    const srcStat = await lstat(src);
    if (srcStat.isSymbolicLink()) gen.symlink(dest, await readlink(src), file.uid, file.gid);
    else if (srcStat.isDirectory()) {
      gen.dir(dest, dirModeFor(file), file.uid, file.gid);
      const names = (await readdir(src)).sort();
      for (const name of names) await add(join(src, name), `${dest}/${name}`);
    } else if (srcStat.isFile()) {
      const rel = gen.diskFile(dest, src, srcStat.size, fileModeFor(file, srcStat.mode), file.uid, file.gid);
      copied.push({ path: `/${rel}`, size: srcStat.size, where: file.where, ...(await digests(src)) });
    } else {
      throw new BuildError("E_BUILD", `${file.where}: ${src} is not a regular file, directory or symlink`);
    }
  };
  await add(file.src, file.dest);
}
