/** "200MiB", "1.5 GB", 1048576 → bytes. */
import { VerifyError } from "../errors.ts";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
};

export function parseSize(v: unknown): number {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  const m = typeof v === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v) : null;
  const u = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || u === undefined)
    throw new VerifyError(
      "E_POLICY",
      `invalid size ${JSON.stringify(v)} (expected e.g. 200MiB, 1GB or a number of bytes)`,
    );
  return Math.round(Number(m[1]) * u);
}
