/**
 * The Debian packages as layers: the spec's named groups (`layers:`) each in its own layer, the
 * rest in "debian", first. A group's layer is cached by the closure and the group (cache.ts), so
 * a warm build reuses it without reading a single package. The groups' layers are written
 * concurrently: one's tar is made while the other's chunks are being compressed.
 */
import { type ContentSpool, type DebContents, readDebs } from "../debian/index.ts";
import { trace, warn } from "../util/progress.ts";
import { cachedLayer, LAYER_KEY_VERSION, sha256Hex } from "./cache.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { BuildError } from "./errors.ts";
import { type FetchedPackages, readConcurrency } from "./fetch.ts";
import { allSettledThenAll } from "./limiter.ts";
import { type FileContent, packageLayerEntries, type RootfsPlan } from "./rootfs.ts";

interface PackageGroup {
  name: string;
  packages: string[];
}

/** The spec's groups (packages not in this architecture's closure left out), "debian" first. */
function packageGroups(ctx: ArchContext): PackageGroup[] {
  const { spec, arch, packages } = ctx;
  const assigned = new Map<string, string>();
  for (const layer of spec.layers) for (const name of layer.packages) assigned.set(name, layer.name);
  for (const [name, layer] of assigned) {
    if (!packages.some((p) => p.name === name))
      warn(`layers: "${name}" (layer ${layer}) is not in the ${arch} image`);
  }
  return [
    { name: "debian", packages: packages.filter((p) => !assigned.has(p.name)).map((p) => p.name) },
    ...spec.layers.map((layer) => ({
      name: layer.name,
      packages: layer.packages.filter((name) => packages.some((p) => p.name === name)),
    })),
  ].filter((group) => group.packages.length > 0);
}

/** `spool`: where packages not read yet are read into (else into memory). */
export async function packageLayers(
  ctx: ArchContext,
  plan: RootfsPlan,
  fetched: FetchedPackages,
  spool?: ContentSpool,
): Promise<BuiltLayer[]> {
  const closureKey = ctx.packages
    .map((p) => p.sha256)
    .sort()
    .join(",");
  const built = await allSettledThenAll(
    packageGroups(ctx).map(async (group) => {
      const key = sha256Hex(
        JSON.stringify({
          v: LAYER_KEY_VERSION,
          kind: "packages",
          c: ctx.compression,
          sde: ctx.sourceDateEpoch,
          closure: closureKey,
          group: [...group.packages].sort(),
          // what drop-paths leaves out changes the layer (absent when there is none: the keys
          // of specs without drop-paths stay what they were)
          ...(ctx.spec.packages.dropPaths.length
            ? { drop: ctx.spec.packages.dropPaths.map((d) => [d.package ?? "", d.glob]) }
            : {}),
        }),
      );
      const { layer, cached } = await cachedLayer(
        ctx.cacheDir,
        ctx.blobDir,
        key,
        () => groupEntries(group, plan, fetched, spool),
        { compression: ctx.compression, sourceDateEpoch: ctx.sourceDateEpoch },
      );
      for (const name of group.packages) fetched.contents.delete(name);
      trace(`${ctx.arch}: layer ${group.name} ${cached ? "from the cache" : "written"}`);
      return { name: group.name, layer, cached, comment: `Debian packages: ${group.packages.join(" ")}` };
    }),
  );
  fetched.contents.clear();
  return built;
}

/** A group's layer entries, with the file contents it needs (read now when not read yet). */
async function groupEntries(
  group: PackageGroup,
  plan: RootfsPlan,
  fetched: FetchedPackages,
  spool: ContentSpool | undefined,
) {
  const byPkg = new Map<string, Map<string, FileContent>>();
  const contentOf = (pkg: string, debPath: string): FileContent => {
    const data = byPkg.get(pkg)?.get(debPath);
    if (!data) throw new BuildError("E_BUILD", `${pkg}: /${debPath} has no content`);
    return data;
  };
  // packages whose content is needed: the group's, plus owners of hard-link targets
  const need = new Set(group.packages);
  for (const entry of plan.tree.values()) {
    if (entry.type === "hardlink" && group.packages.includes(entry.pkg)) {
      const target = plan.tree.get(entry.target ?? "");
      if (target) need.add(target.pkg);
    }
  }
  const take = (name: string, contents: DebContents) => {
    const files = new Map<string, FileContent>();
    const store = contents.spool;
    for (const entry of contents.entries) {
      if (entry.type !== "file") continue;
      files.set(
        entry.path,
        store && entry.at !== undefined
          ? { size: entry.size, content: { kind: "range", store, offset: entry.at } }
          : (entry.data ?? new Uint8Array()),
      );
    }
    byPkg.set(name, files);
  };
  // contents read already are taken at once (another group may drop them when it is done);
  // packages whose metadata came from the cache are read now, in parallel
  const unread: string[] = [];
  for (const name of need) {
    const contents = fetched.contents.get(name);
    if (contents) take(name, contents);
    else unread.push(name);
  }
  const read = await readDebs(
    unread.map((name) => fetched.debPaths.get(name) as string),
    { concurrency: readConcurrency(), spool },
  );
  for (const [i, name] of unread.entries()) take(name, read[i]);
  return packageLayerEntries(plan, new Set(group.packages), contentOf);
}
