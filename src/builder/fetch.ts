/**
 * Download and read an architecture's packages in one pipeline: each .deb is read (xz in worker
 * threads, several at once) as soon as it is in the cache, while the others still download.
 * Package metadata is cached by the .deb's SHA256 (debinfo.ts); contents are kept only for the
 * packages read now (the package layers take them, or read the others when they need them),
 * in the build's spool file, not in memory.
 */
import { availableParallelism } from "node:os";
import { type BinaryPackage, type ContentSpool, type DebContents, fetchDeb } from "../debian/index.ts";
import { sweepTemps } from "../util/atomic.ts";
import { info, progress } from "../util/progress.ts";
import { type DebInfo, loadDebInfo } from "./debinfo.ts";
import { allSettledThenAll, limiter, priorityLimiter } from "./limiter.ts";

export interface FetchedPackages {
  /** package name → its metadata */
  infos: Map<string, DebInfo>;
  /** package name → its contents, for the packages read in this run */
  contents: Map<string, DebContents>;
  /** package name → its .deb in the cache */
  debPaths: Map<string, string>;
}

/** Packages read at the same time (each may decompress in its own worker). */
export function readConcurrency(): number {
  return Math.min(4, Math.max(2, availableParallelism()));
}

/** `spool`: where the contents of the packages read are written (else they are held in memory). */
export async function fetchPackages(
  arch: string,
  packages: BinaryPackage[],
  cacheDir: string,
  spool?: ContentSpool,
): Promise<FetchedPackages> {
  await sweepTemps(cacheDir);
  const download = limiter(8);
  // reading is the bottleneck (downloads finish long before): the largest waiting package is
  // read next, so that the long reads overlap the short ones instead of ending the phase alone
  const cpu = priorityLimiter(readConcurrency());
  const bar = progress(`${arch}: fetching and reading packages`, packages.length);
  const loaded = await allSettledThenAll(
    packages.map(async (pkg) => {
      const deb = await download(() => fetchDeb(pkg, cacheDir));
      const read = await cpu(pkg.size, () => loadDebInfo(deb.path, pkg.sha256, cacheDir, pkg.name, spool));
      bar.tick(1, pkg.name);
      return { deb, read };
    }),
  );
  bar.done(`${packages.length} packages`);
  const fetched: FetchedPackages = { infos: new Map(), contents: new Map(), debPaths: new Map() };
  for (const { deb, read } of loaded) {
    fetched.infos.set(deb.pkg.name, read.info);
    fetched.debPaths.set(deb.pkg.name, deb.path);
    if (read.contents) fetched.contents.set(deb.pkg.name, read.contents);
  }
  const readNow = fetched.contents.size;
  info(
    `${arch}: ${packages.length} packages (${readNow} read, ${packages.length - readNow} from the metadata cache)`,
  );
  return fetched;
}
