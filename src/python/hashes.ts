/**
 * Hashes of distribution files: the `ALGO:HEX` form of requirements files (`--hash=sha256:…`),
 * the `ALGO=HEX` form of URL fragments and the `ALGO=URLSAFE-BASE64` form of wheel RECORDs.
 * Only sha256, sha384 and sha512 are accepted (md5/sha1 are too weak to pin with).
 */
import { createHash } from "node:crypto";
import type { HashAlgorithm, HashSpec } from "./types.ts";

const HEX_LEN: Record<HashAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function isHashAlgorithm(a: string): a is HashAlgorithm {
  return a === "sha256" || a === "sha384" || a === "sha512";
}

/**
 * Parse `ALGO:HEX` (or `ALGO=HEX`); the reason as a string when it is not usable.
 */
export function parseHashSpec(s: string): HashSpec | string {
  const m = /^([A-Za-z0-9]+)[:=]([0-9A-Fa-f]+)$/.exec(s.trim());
  if (!m) return `${JSON.stringify(s)} is not ALGORITHM:HEX`;
  const algorithm = m[1].toLowerCase();
  if (!isHashAlgorithm(algorithm))
    return `hash algorithm ${m[1]} is not accepted (use sha256, sha384 or sha512)`;
  if (m[2].length !== HEX_LEN[algorithm]) {
    return `${algorithm} hash ${m[2]} has ${m[2].length} hex digits, not ${HEX_LEN[algorithm]}`;
  }
  return { algorithm, hex: m[2].toLowerCase() };
}

export function formatHash(h: HashSpec): string {
  return `${h.algorithm}:${h.hex}`;
}

/** Hex digests of `data` for every algorithm in `algorithms`. */
export function digestHex(data: Uint8Array, algorithm: HashAlgorithm): string {
  return createHash(algorithm).update(data).digest("hex");
}

/** Does a file with these digests (algorithm → hex) match one of `allowed`? */
export function matchesAny(digests: Partial<Record<HashAlgorithm, string>>, allowed: HashSpec[]): boolean {
  return allowed.some((h) => digests[h.algorithm] === h.hex);
}

/** Does one of the hashes `stated` for a file equal one of `allowed`? */
export function hashesOverlap(stated: HashSpec[], allowed: HashSpec[]): boolean {
  return stated.some((s) => allowed.some((a) => a.algorithm === s.algorithm && a.hex === s.hex));
}

/** Do `stated` and `allowed` share an algorithm (so a comparison is conclusive)? */
export function comparable(stated: HashSpec[], allowed: HashSpec[]): boolean {
  return stated.some((s) => allowed.some((a) => a.algorithm === s.algorithm));
}

/** RECORD's form: `sha256=` + urlsafe base64 without padding. */
export function recordHash(data: Uint8Array, algorithm: HashAlgorithm = "sha256"): string {
  return `${algorithm}=${createHash(algorithm).update(data).digest("base64url")}`;
}
