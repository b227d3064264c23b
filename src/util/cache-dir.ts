/** Where shellfree caches what it downloads and builds, unless `--cache-dir` says otherwise. */
import { homedir } from "node:os";
import { join } from "node:path";

/** `$XDG_CACHE_HOME/shellfree`, else `~/.cache/shellfree`. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg?.startsWith("/")) return join(xdg, "shellfree");
  return join(homedir(), ".cache", "shellfree");
}
