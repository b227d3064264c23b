/**
 * Where an image's spec is, as recorded in the image (the SPEC_LABEL label): relative to the root
 * of the git repository that holds it — what code scanning and `verify --format sarif` resolve
 * against a checkout — else just its file name. Never an absolute path: the same spec built in
 * another directory gives the same image.
 */
import { existsSync } from "node:fs";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { SPEC_LABEL } from "../formats/index.ts";
import type { Spec } from "../spec/index.ts";

/** The nearest directory upwards from `dir` that has a `.git` (directory or worktree file). */
function gitRoot(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(`${d}${sep}.git`)) return d;
    if (dirname(d) === d) return undefined;
  }
}

/** The spec's path as recorded in the image, or undefined for a preset build. */
export function specProvenance(source: string): string | undefined {
  if (source.startsWith("preset:")) return undefined;
  const file = resolve(source);
  const root = gitRoot(dirname(file));
  const rel = root ? relative(root, file) : basename(file);
  return rel.split(sep).join("/");
}

/** The labels saying where the image's spec is (none for a preset build). */
export function provenanceLabels(spec: Spec): Record<string, string> {
  const p = specProvenance(spec.source);
  return p ? { [SPEC_LABEL]: p } : {};
}
