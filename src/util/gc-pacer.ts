/**
 * Keep a long download's memory flat. Node reads a socket into a fresh buffer each time (64 KiB
 * at most) and frees it only when V8 collects the small JavaScript object that holds it; V8
 * collects for such "external" memory only after it grew by 64 MiB, so a download at disk speed
 * carries tens of MiB of garbage buffers. `received(n)` is told every chunk that arrives; every
 * PACE bytes it runs a young-generation collection (well under a millisecond: the buffers of
 * chunks already written die young), through V8's `gc` (util/memory.ts's `collector`).
 * Without it (a runtime that refuses the flag) nothing happens.
 */
import { collector } from "./memory.ts";

/** bytes received between two collections */
export const GC_PACE = 2 << 20;

let since = 0;

/** Count `bytes` received; collect young garbage every GC_PACE bytes. */
export function received(bytes: number): void {
  since += bytes;
  if (since < GC_PACE) return;
  since = 0;
  try {
    collector()?.({ type: "minor" });
  } catch {
    /* best effort: a download never fails for it */
  }
}
