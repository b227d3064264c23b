/**
 * shellfree-init (`init:` in the spec): the native binary for the image's architecture at
 * /usr/bin/shellfree-init (0755), one small layer cached by the binary's SHA256. Its
 * configuration (/etc/shellfree/init.json) is in the config layer.
 */
import { INIT_BINARY_PATH, InitBinaryMissing, readInitBinary } from "../init/index.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { BuildError } from "./errors.ts";
import { generatedStepLayer } from "./generated-step.ts";
import type { LockedArch } from "./lock.ts";
import type { RootfsPlan } from "./rootfs.ts";

/** What the lock, the SBOMs and the report say about the init of one architecture's image. */
export interface InitBinaryFacts {
  version: string;
  /** hex */
  sha256: string;
  size: number;
  path: string;
}

/** The init binary for `arch` (its facts and bytes); a missing one is a one-line BuildError. */
export function initBinaryFor(arch: string): InitBinaryFacts & { bytes: Uint8Array } {
  try {
    const b = readInitBinary(arch);
    return { version: b.version, sha256: b.sha256, size: b.size, path: INIT_BINARY_PATH, bytes: b.bytes };
  } catch (e) {
    if (e instanceof InitBinaryMissing) throw new BuildError("E_INIT_BINARY", e.message);
    throw e;
  }
}

/** `--locked`: the binary must be the one the lock records for this architecture. */
export function checkLockedInit(
  facts: InitBinaryFacts,
  arch: string,
  lock: { file: string; lock: { architectures: Record<string, LockedArch> } } | undefined,
): void {
  if (!lock) return;
  const locked = lock.lock.architectures[arch]?.init;
  if (locked?.sha256 === facts.sha256 && locked.version === facts.version) return;
  const have = `shellfree-init ${facts.version} sha256:${facts.sha256.slice(0, 12)}`;
  throw new BuildError(
    "E_LOCKED",
    locked
      ? `${lock.file} (${arch}) records shellfree-init ${locked.version} sha256:${locked.sha256.slice(0, 12)}, but this shellfree carries ${have}`
      : `${lock.file} (${arch}) records no shellfree-init, but the spec has init: (this shellfree carries ${have})`,
    { hint: "run `shellfree lock` to record this shellfree's init (or build without --locked)" },
  );
}

export async function initLayer(
  ctx: ArchContext,
  plan: RootfsPlan,
  opts: { lock?: { file: string; lock: { architectures: Record<string, LockedArch> } } },
): Promise<{ layer: BuiltLayer; init: InitBinaryFacts } | undefined> {
  if (ctx.spec.init === undefined) return undefined;
  const { bytes, ...init } = initBinaryFor(ctx.arch);
  checkLockedInit(init, ctx.arch, opts.lock);
  const { layer, cached } = await generatedStepLayer(ctx, plan, "init", { sha: init.sha256 }, (gen) =>
    gen.file(INIT_BINARY_PATH, bytes, 0o755),
  );
  return {
    layer: { name: "init", layer, cached, comment: `shellfree-init ${init.version} (sha256:${init.sha256})` },
    init,
  };
}
