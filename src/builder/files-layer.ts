/** The spec's `files:` (files and directories of the build host) as the last layer. */
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { writeLayer } from "../oci/index.ts";
import type { FileSpec } from "../spec/index.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { BuildError } from "./errors.ts";
import { GeneratedLayer, type RootfsPlan } from "./rootfs.ts";

export async function filesLayer(ctx: ArchContext, plan: RootfsPlan): Promise<BuiltLayer | undefined> {
  const files = ctx.spec.files;
  if (!files.length) return undefined;
  const gen = new GeneratedLayer(plan);
  for (const file of files) await addLocalFiles(gen, file);
  const layer = await writeLayer(gen.list(), {
    compression: ctx.compression,
    sourceDateEpoch: ctx.sourceDateEpoch,
    blobDir: ctx.blobDir,
  });
  return { name: "files", layer, cached: false, comment: `files: ${files.map((f) => f.dest).join(" ")}` };
}

/** Walk a local file or directory given in `files:` into entries under `dest`. */
async function addLocalFiles(gen: GeneratedLayer, file: FileSpec): Promise<void> {
  const st = await lstat(file.src).catch(() => null);
  if (!st)
    throw new BuildError("E_FILE_MISSING", `${file.where}: files: local file ${file.src} does not exist`);
  const add = async (src: string, dest: string) => {
    const srcStat = await lstat(src);
    if (srcStat.isSymbolicLink()) gen.symlink(dest, await readlink(src), file.uid, file.gid);
    else if (srcStat.isDirectory()) {
      gen.dir(
        dest,
        file.mode !== undefined ? dirModeFor(file.mode) : srcStat.mode & 0o7777,
        file.uid,
        file.gid,
      );
      const names = (await readdir(src)).sort();
      for (const name of names) await add(join(src, name), `${dest}/${name}`);
    } else if (srcStat.isFile()) {
      gen.diskFile(dest, src, srcStat.size, file.mode ?? srcStat.mode & 0o7777, file.uid, file.gid);
    } else {
      throw new BuildError("E_BUILD", `${file.where}: ${src} is not a regular file, directory or symlink`);
    }
  };
  await add(file.src, file.dest);
}

/** For a directory copied with a file mode, directories get the x bits where r is set. */
function dirModeFor(mode: number): number {
  let dirMode = mode & 0o7777;
  if (dirMode & 0o400) dirMode |= 0o100;
  if (dirMode & 0o040) dirMode |= 0o010;
  if (dirMode & 0o004) dirMode |= 0o001;
  return dirMode;
}
