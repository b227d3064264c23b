/**
 * Give memory back to the system between phases. V8 keeps the pages a burst of allocation
 * grew its heap to (loading a 60 MB package index leaves ~160 MB committed for ~30 MB of live
 * data) and reuses them only slowly; a "last resort" collection, as on a low-memory
 * notification, compacts the heap and releases them. It costs ~0.1 s, so it is called only
 * after such a burst. The collector is taken from a fresh context with V8's gc extension; when
 * that is unavailable this does nothing.
 */
// (node:v8 and node:vm are taken on first use: no command pays for them at start-up)
const setFlagsFromString = (flags: string) => process.getBuiltinModule("node:v8").setFlagsFromString(flags);
const runInNewContext = (code: string) => process.getBuiltinModule("node:vm").runInNewContext(code);

type GcFn = (opts?: { type?: string; execution?: string; flavor?: string }) => void;

let gcFn: GcFn | null | undefined;

/** V8's collector (`gc`), taken once from a fresh context with its gc extension; null when refused. */
export function collector(): GcFn | null {
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

/**
 * Have V8 favour a small heap over allocation speed (its "optimize for size" mode, set at run
 * time), or not: with it the young generation stays small and the old one grows by less before
 * it is collected. A build runs with it (peak RSS of the squid image ~225 → ~192 MB) at the cost
 * of more time in the collector (~0.4 s of CPU there). It must be on from the start: turned on
 * after a phase that grew the young generation, it does not shrink it.
 */
export function smallHeap(on: boolean): void {
  try {
    setFlagsFromString(on ? "--optimize-for-size" : "--no-optimize-for-size");
  } catch {
    /* best effort */
  }
}
