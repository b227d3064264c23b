/**
 * OCI layer whiteouts (image-spec, layer.md): an entry `DIR/.wh.NAME` deletes DIR/NAME, and
 * everything below it, from the layers underneath; `DIR/.wh..wh..opq` makes DIR opaque: what the
 * layers underneath put in it is hidden (DIR itself stays). Whiteout entries are never files of
 * the image. The runtime's unpacker (a directory on disk) and verify's filesystem view (a map of
 * nodes) both apply them through `applyWhiteout`.
 */

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";

/** `path` and `dir` have the form of the entry's path: "a/b" relative, "/a/b" absolute. */
export type Whiteout = { kind: "opaque"; dir: string } | { kind: "delete"; path: string };

/** What applying a whiteout needs from a filesystem being assembled layer by layer. */
export interface WhiteoutTarget {
  /** remove `path` and everything below it (it came from a lower layer) */
  removeTree(path: string): void | Promise<void>;
  /** remove what lower layers put below `dir`, keeping `dir` and what this layer wrote there */
  clearLowerChildren(dir: string): void | Promise<void>;
}

/** The whiteout a layer entry at `path` stands for, or undefined for an ordinary entry. */
export function whiteoutOf(path: string): Whiteout | undefined {
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = slash < 0 ? "" : slash === 0 ? "/" : path.slice(0, slash);
  if (base === OPAQUE_WHITEOUT) return { kind: "opaque", dir };
  const name = base.slice(WHITEOUT_PREFIX.length);
  return { kind: "delete", path: dir === "" ? name : dir === "/" ? `/${name}` : `${dir}/${name}` };
}

export function applyWhiteout(whiteout: Whiteout, target: WhiteoutTarget): void | Promise<void> {
  return whiteout.kind === "opaque"
    ? target.clearLowerChildren(whiteout.dir)
    : target.removeTree(whiteout.path);
}
