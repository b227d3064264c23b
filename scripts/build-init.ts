/**
 * Build the native shellfree-init for every architecture `shellfree build` accepts:
 *   dist/init/<debian-arch>/shellfree-init   (git-ignored; shipped in the npm package)
 * CGO_ENABLED=0, -trimpath -buildvcs=false -ldflags='-s -w -buildid= -X main.version=<version>':
 * static, the same bytes from the same sources and toolchain. Skipped when the stamp (a hash of
 * the Go sources, the Go version, the flags and the version) matches. Each binary must stay
 * within 3 MiB.
 *
 *   node scripts/build-init.ts                       build what is out of date
 *   node scripts/build-init.ts --force               build everything again
 *   node scripts/build-init.ts --check-reproducible  build amd64 again with an empty Go cache and
 *                                                    compare the bytes (exit 3 when they differ)
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { INIT_BINARY_ARCHES, INIT_DIST_DIR, initBinaryPath, initVersion } from "../src/init/index.ts";
import { tempPathFor, writeFileAtomic } from "../src/util/atomic.ts";
import { findGo, goEnv, goVersion, INIT_MODULE_DIR } from "./go-toolchain.ts";

export { initBinaryPath, initVersion };

const ROOT = join(import.meta.dirname, "..");
const DIST = INIT_DIST_DIR;
export const MAX_SIZE = 3 * 1024 * 1024;

/** Debian architecture (src/init's INIT_BINARY_ARCHES) → Go's GOARCH and its variant. */
export const INIT_ARCHES: Record<string, Record<string, string>> = {
  amd64: { GOARCH: "amd64", GOAMD64: "v1" },
  arm64: { GOARCH: "arm64" },
  armhf: { GOARCH: "arm", GOARM: "7" },
  ppc64el: { GOARCH: "ppc64le", GOPPC64: "power8" },
  s390x: { GOARCH: "s390x" },
  riscv64: { GOARCH: "riscv64" },
  i386: { GOARCH: "386", GO386: "softfloat" }, // Debian's i386 baseline has no SSE2
};

function ldflags(version: string): string {
  return `-s -w -buildid= -X main.version=${version}`;
}

/** The Go sources that make the binary (tests and test data do not). */
function sources(): string[] {
  return readdirSync(INIT_MODULE_DIR)
    .filter((f) => (f.endsWith(".go") && !f.endsWith("_test.go")) || f === "go.mod" || f === "go.sum")
    .sort();
}

export function stamp(go: string, version: string): string {
  const h = createHash("sha256");
  for (const f of sources())
    h.update(`${f}\0`)
      .update(readFileSync(join(INIT_MODULE_DIR, f)))
      .update("\0");
  h.update(goVersion(go)).update("\0").update(ldflags(version)).update("\0");
  h.update(JSON.stringify(INIT_ARCHES));
  return h.digest("hex");
}

/** Build one architecture into `out` (atomically). */
export function buildOne(
  go: string,
  arch: string,
  version: string,
  out: string,
  env: Record<string, string> = {},
): void {
  const tmp = tempPathFor(out);
  try {
    execFileSync(
      go,
      ["build", "-trimpath", "-buildvcs=false", `-ldflags=${ldflags(version)}`, "-o", tmp, "."],
      {
        cwd: INIT_MODULE_DIR,
        env: goEnv({ CGO_ENABLED: "0", GOOS: "linux", ...INIT_ARCHES[arch], ...env }),
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export async function buildInit(force = false): Promise<{ built: boolean; lines: string[] }> {
  const go = findGo();
  const version = initVersion();
  const want = stamp(go, version);
  const stampFile = join(DIST, ".stamp");
  const have = existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : "";
  const complete = INIT_BINARY_ARCHES.every((a) => existsSync(initBinaryPath(a)));
  const lines: string[] = [];
  let built = false;
  if (force || have !== want || !complete) {
    rmSync(stampFile, { force: true });
    for (const arch of INIT_BINARY_ARCHES) {
      const out = initBinaryPath(arch);
      mkdirSync(join(DIST, arch), { recursive: true });
      buildOne(go, arch, version, out);
    }
    built = true;
  }
  for (const arch of INIT_BINARY_ARCHES) {
    const out = initBinaryPath(arch);
    const size = statSync(out).size;
    if (size > MAX_SIZE) throw new Error(`${relative(ROOT, out)} is ${size} bytes, over the 3 MiB budget`);
    lines.push(`${relative(ROOT, out)} ${size} bytes sha256:${sha256(out)}`);
  }
  if (built) await writeFileAtomic(stampFile, `${want}\n`);
  return { built, lines };
}

/** Build amd64 again with an empty Go cache: the same bytes? */
export function checkReproducible(): { same: boolean; a: string; b: string } {
  const go = findGo();
  const version = initVersion();
  const dir = mkdtempSync(join(tmpdir(), "sf-init-repro-"));
  try {
    const out = join(dir, "shellfree-init");
    buildOne(go, "amd64", version, out, { GOCACHE: join(dir, "cache") });
    const a = sha256(initBinaryPath("amd64"));
    const b = sha256(out);
    return { same: a === b, a, b };
  } finally {
    execFileSync("chmod", ["-R", "u+w", dir]); // the Go cache is read-only
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  try {
    const { built, lines } = await buildInit(process.argv.includes("--force"));
    process.stdout.write(`build-init: ${built ? "built" : "up to date"} (${goVersion(findGo())})\n`);
    for (const l of lines) process.stdout.write(`  ${l}\n`);
    if (process.argv.includes("--check-reproducible")) {
      const r = checkReproducible();
      process.stdout.write(
        `build-init: amd64 rebuilt with an empty Go cache: ${r.same ? "same bytes" : `DIFFERENT (${r.a} vs ${r.b})`}\n`,
      );
      if (!r.same) process.exit(3);
    }
  } catch (e) {
    process.stderr.write(`build-init: ${(e as Error).message.split("\n")[0]}\n`);
    process.exit(1);
  }
}
