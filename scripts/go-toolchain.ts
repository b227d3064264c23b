/**
 * Debian's Go toolchain for the native shellfree-init: `go` on PATH, else the newest
 * /usr/lib/go-X.Y/bin/go (golang-1.23-go from bookworm-backports, golang-1.24-go on trixie,
 * installed by scripts/setup-host.sh). Builds never reach a module proxy: the init uses the
 * standard library only.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

export const INIT_MODULE_DIR = join(import.meta.dirname, "../init");

/** The go binary to use; throws one line when there is none. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "go"))) return join(dir, "go");
  }
  const versions = existsSync("/usr/lib")
    ? readdirSync("/usr/lib")
        .map((d) => /^go-(\d+)\.(\d+)$/.exec(d))
        .filter((m): m is RegExpExecArray => m !== null && existsSync(`/usr/lib/${m[0]}/bin/go`))
        .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]))
    : [];
  if (versions.length > 0) return `/usr/lib/${versions[0][0]}/bin/go`;
  throw new Error(
    "no Go toolchain: install Debian's golang-1.23-go (bookworm-backports) or golang-1.24-go (trixie), e.g. bash scripts/setup-host.sh",
  );
}

/** The environment for running go: no network, no module proxy, GOTOOLCHAIN=local. */
export function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOFLAGS: "",
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
    GOTELEMETRY: "off",
    GOCACHE:
      process.env.GOCACHE ??
      join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "/tmp", ".cache"), "go-build"),
    ...extra,
  };
}

/** `go version` of the toolchain, e.g. "go version go1.23.5 linux/amd64". */
export function goVersion(go: string): string {
  return execFileSync(go, ["version"], { encoding: "utf8", env: goEnv() }).trim();
}
