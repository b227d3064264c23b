/**
 * The wheel tags the image's interpreter accepts, best first — the order pip prefers them in
 * (packaging.tags' `sys_tags` for CPython on glibc Linux):
 *
 *   1. cp3X-cp3X-PLAT          the interpreter's own ABI
 *   2. cp3X-abi3-PLAT          the stable ABI, built for this version
 *   3. cp3X-none-PLAT
 *   4. cp3Y-abi3-PLAT          the stable ABI of older versions, Y = X-1 … 2
 *   5. py3X-none-PLAT, py3-none-PLAT, py3Y-none-PLAT (Y = X-1 … 0)
 *   6. cp3X-none-any
 *   7. py3X-none-any, py3-none-any, py3Y-none-any (Y = X-1 … 0)
 *
 * with PLAT, best first: manylinux_2_N_ARCH for N from the image's glibc down to 17 (5 on
 * x86_64/i686), each followed by its legacy alias where one exists (manylinux2014 = 2_17,
 * manylinux2010 = 2_12, manylinux1 = 2_5), then linux_ARCH.
 */
import { archInfo, glibcVersion, type PythonTarget, pythonMajorMinor } from "./target.ts";
import type { WheelName } from "./wheelname.ts";

const LEGACY: Record<string, string> = { "2_17": "2014", "2_12": "2010", "2_5": "1" };

/** Platform tags for the target, best first. */
export function platformTags(t: PythonTarget): string[] {
  const { machine } = archInfo(t.arch);
  const [gmaj, gmin] = glibcVersion(t);
  const out: string[] = [];
  if (gmaj === 2) {
    const oldest = machine === "x86_64" || machine === "i686" ? 5 : 17;
    for (let minor = gmin; minor >= oldest; minor--) {
      out.push(`manylinux_2_${minor}_${machine}`);
      const legacy = LEGACY[`2_${minor}`];
      if (legacy) out.push(`manylinux${legacy}_${machine}`);
    }
  }
  out.push(`linux_${machine}`);
  return out;
}

/** Every tag the target accepts, best first ("cp313-cp313-manylinux_2_41_x86_64", …, "py30-none-any"). */
export function supportedTags(t: PythonTarget): string[] {
  const [major, minor] = pythonMajorMinor(t);
  const plats = platformTags(t);
  const cp = `cp${major}${minor}`;
  const out: string[] = [];
  const add = (py: string, abi: string, platforms: string[]) => {
    for (const p of platforms) out.push(`${py}-${abi}-${p}`);
  };
  add(cp, cp, plats);
  const abi3 = major === 3 && minor >= 2;
  if (abi3) add(cp, "abi3", plats);
  add(cp, "none", plats);
  if (abi3) for (let m = minor - 1; m >= 2; m--) add(`cp${major}${m}`, "abi3", plats);
  const pyRange = [`py${major}${minor}`, `py${major}`];
  for (let m = minor - 1; m >= 0; m--) pyRange.push(`py${major}${m}`);
  for (const py of pyRange) add(py, "none", plats);
  out.push(`${cp}-none-any`);
  for (const py of pyRange) out.push(`${py}-none-any`);
  return out;
}

/** Priorities of the target's tags (0 = best), for ranking many wheels against one target. */
export function tagPriorities(t: PythonTarget): Map<string, number> {
  return new Map(supportedTags(t).map((tag, i) => [tag, i]));
}

/** The best tag of a wheel for the target and its priority, or undefined when none fits. */
export function bestTag(
  w: WheelName,
  priorities: Map<string, number>,
): { tag: string; priority: number } | undefined {
  let best: { tag: string; priority: number } | undefined;
  for (const tag of w.tags) {
    const p = priorities.get(tag);
    if (p !== undefined && (!best || p < best.priority)) best = { tag, priority: p };
  }
  return best;
}
