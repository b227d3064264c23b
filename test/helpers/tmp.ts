/** Temp directories for tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A new directory `<tmp>/<prefix>XXXXXX`. Given `owner` (a test's context, or anything with
 * `after`), it is removed when that ends; otherwise remove it with `removeDir`.
 */
export async function tempDir(
  prefix: string,
  owner?: { after(fn: () => Promise<void>): void },
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  owner?.after(() => removeDir(dir));
  return dir;
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
