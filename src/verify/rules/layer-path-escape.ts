/**
 * layer-path-escape: no layer entry that a naive extractor would write outside its root — an
 * absolute name, `..` above the root, a hard link to such a path, or an entry written through
 * a symlink that points out of the root (image-fs.ts collects them while reading the layers).
 */
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "layer-path-escape",
  title: "No layer entry outside the root",
  description:
    "No layer entry with an absolute name, a `..` above the root, a hard link to such a path, or a path through a symlink that points out of the root.",
  defaultSeverity: "error",
  hint: "rebuild the layer from a clean tree: entry names relative to the root, no .., symlinks inside the image",
  check({ fs }) {
    return fs.unsafe.map((u): RawFinding => ({ path: u.name, message: `layer ${u.layer + 1}: ${u.why}` }));
  },
};
