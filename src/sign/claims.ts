/**
 * What a signature must claim, checked once its signature verified: this image's digest, this
 * repository (when the signature names one), and the annotations asked for. Each failure is a
 * phrase that completes "the signature …".
 */
import { parseRegistryRef } from "../oci/index.ts";
import type { SignedClaims } from "./payload.ts";

/** HOST/REPO of a reference that may carry a tag or digest (as a payload's docker-reference may). */
export function repositoryOf(identity: string): string {
  try {
    const r = parseRegistryRef(identity);
    return `${r.registry}/${r.repository}`;
  } catch {
    return identity;
  }
}

export function annotationProblem(
  want: Record<string, string> | undefined,
  have: Record<string, unknown>,
): string | undefined {
  for (const [k, v] of Object.entries(want ?? {})) {
    if (have[k] !== v) {
      return have[k] === undefined
        ? `lacks the annotation ${k}=${v}`
        : `has the annotation ${k}=${String(have[k])}, not ${k}=${v}`;
    }
  }
  return undefined;
}

export interface Expected {
  digest: string;
  identity: string;
  annotations?: Record<string, string>;
}

/** The checks after the signature itself: digest, identity, annotations. */
export function claimProblem(c: SignedClaims, want: Expected): string | undefined {
  if (c.digest !== want.digest) {
    return `signs ${c.digest}, not ${want.digest} (a signature of another image)`;
  }
  if (c.identity !== undefined && repositoryOf(c.identity) !== repositoryOf(want.identity)) {
    return `was made for ${c.identity}, not ${want.identity}`;
  }
  return annotationProblem(want.annotations, c.annotations);
}
