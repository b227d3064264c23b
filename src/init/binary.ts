/**
 * Where the native shellfree-init binaries are: `dist/init/<debian-arch>/shellfree-init` in the
 * package root (built by `npm run build:init`, scripts/build-init.ts; shipped in the npm
 * package). The builder installs the one for the image's architecture at INIT_BINARY_PATH.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** Where images carry the init. */
export const INIT_BINARY_PATH = "/usr/bin/shellfree-init";

/** The package root (this file is src/init/binary.ts). */
const PACKAGE_ROOT = join(import.meta.dirname, "../..");

/** Where the binaries are built to and shipped from. */
export const INIT_DIST_DIR = join(PACKAGE_ROOT, "dist/init");

/** The Debian architectures a binary is built for (the ones `shellfree build` accepts). */
export const INIT_BINARY_ARCHES = ["amd64", "arm64", "armhf", "ppc64el", "s390x", "riscv64", "i386"] as const;

/** The binaries' version: shellfree's own (package.json), stamped in with -X main.version. */
export function initVersion(): string {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")).version;
}

/** Where the binary for a Debian architecture is. */
export function initBinaryPath(arch: string): string {
  return join(INIT_DIST_DIR, arch, "shellfree-init");
}

/** No binary for an architecture (not built, or not a known one). */
export class InitBinaryMissing extends Error {
  readonly arch: string;
  constructor(arch: string, path: string) {
    super(
      (INIT_BINARY_ARCHES as readonly string[]).includes(arch)
        ? `shellfree-init for ${arch} is missing (${relative(process.cwd(), path) || path}): run \`npm run build:init\``
        : `shellfree-init is not built for architecture ${arch} (built for: ${INIT_BINARY_ARCHES.join(", ")})`,
    );
    this.name = "InitBinaryMissing";
    this.arch = arch;
  }
}

/** One architecture's binary, read once: its bytes, size and SHA256. */
export interface InitBinary {
  arch: string;
  version: string;
  /** the file it was read from */
  path: string;
  bytes: Uint8Array;
  size: number;
  /** hex */
  sha256: string;
}

/**
 * The binary for a Debian architecture (read now: the bytes installed are the bytes hashed, even
 * if `npm run build:init` rewrites the file meanwhile). Throws InitBinaryMissing.
 */
export function readInitBinary(arch: string): InitBinary {
  const path = initBinaryPath(arch);
  let bytes: Uint8Array;
  try {
    if (!(INIT_BINARY_ARCHES as readonly string[]).includes(arch)) throw new Error("unknown");
    bytes = readFileSync(path);
  } catch {
    throw new InitBinaryMissing(arch, path);
  }
  return {
    arch,
    version: initVersion(),
    path,
    bytes,
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}
