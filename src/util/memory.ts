/**
 * Give memory back to the system between phases. V8 keeps the pages a burst of allocation
 * grew its heap to (loading a 60 MB package index leaves ~160 MB committed for ~30 MB of live
 * data) and reuses them only slowly; a "last resort" collection, as on a low-memory
 * notification, compacts the heap and releases them. It costs ~0.1 s, so it is called only
 * after such a burst. The collector is taken from a fresh context with V8's gc extension; when
 * that is unavailable this does nothing.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type GcFn = (opts?: { type?: string; execution?: string; flavor?: string }) => void;

let gcFn: GcFn | null | undefined;

function collector(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  gcFn = typeof globalThis.gc === "function" ? (globalThis.gc as GcFn) : null;
  if (!gcFn) {
    try {
      setFlagsFromString("--expose-gc");
      const fn = runInNewContext("gc") as unknown;
      if (typeof fn === "function") gcFn = fn as GcFn;
    } catch {
      gcFn = null;
    } finally {
      setFlagsFromString("--no-expose-gc");
    }
  }
  return gcFn;
}

/** A full, compacting collection that returns freed heap pages to the system (best effort). */
export function releaseMemory(): void {
  const gc = collector();
  if (!gc) return;
  try {
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    /* best effort */
  }
}
