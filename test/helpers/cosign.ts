/**
 * The real cosign, for interoperability tests: Debian trixie's `cosign` package for the host's
 * architecture, fetched and unpacked by shellfree itself (`shellfree fetch` from the configured
 * mirror, signature- and SHA256-checked, then `shellfree debian extract`) into the shared test
 * cache, once per version.
 *
 *   const cosign = await cosignBinary();   // …/tools/cosign_2.5.0-2+b5_amd64/usr/bin/cosign
 */
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellfree as runCli } from "./cli.ts";
import { TEST_CACHE, testMirror } from "./mirror.ts";

export function hostDebianArch(): string {
  if (process.arch === "x64") return "amd64";
  if (process.arch === "arm64") return "arm64";
  throw new Error(`no Debian architecture for ${process.arch}`);
}

function shellfree(args: string[]) {
  return runCli(["-q", ...args], { timeoutMs: 300_000 });
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** The path of a cosign binary from Debian trixie (fetched and unpacked on first use). */
export async function cosignBinary(): Promise<string> {
  const arch = hostDebianArch();
  const debs = await mkdtemp(join(tmpdir(), "shellfree-cosign-deb-"));
  try {
    // the closure without libc (the host's serves): only cosign itself
    const f = await shellfree([
      "fetch",
      "cosign",
      "--exclude",
      "libc6",
      "--suite",
      "trixie",
      "--arch",
      arch,
      "--mirror",
      testMirror(),
      "--cache-dir",
      TEST_CACHE,
      "--out",
      debs,
      "--json",
    ]);
    if (f.code !== 0) throw new Error(`shellfree fetch cosign failed: ${f.stderr}`);
    const pkg = (
      JSON.parse(f.stdout) as { packages: Array<{ name: string; version: string; file: string }> }
    ).packages.find((p) => p.name === "cosign");
    if (!pkg) throw new Error("shellfree fetch cosign: no cosign package in the result");
    const dir = join(TEST_CACHE, "tools", `cosign_${pkg.version}_${arch}`);
    const bin = join(dir, "usr", "bin", "cosign");
    if (await exists(bin)) return bin;
    const x = await shellfree(["debian", "extract", join(debs, pkg.file), "--out", dir]);
    if (x.code !== 0) throw new Error(`shellfree debian extract cosign failed: ${x.stderr}`);
    if (!(await exists(bin))) throw new Error(`the cosign package has no usr/bin/cosign (${dir})`);
    return bin;
  } finally {
    await rm(debs, { recursive: true, force: true });
  }
}
