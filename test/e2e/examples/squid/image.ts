/**
 * The example's image, built once per test file from examples/squid-proxy/shellfree.yaml for
 * this machine's architecture (the shared test cache makes every build after the first one
 * take a second or two): an OCI layout (with its SBOMs), a docker-archive for podman (the format
 * podman keeps HEALTHCHECK from), and the root filesystem unpacked by umoci for runc.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { OciImageConfig } from "../../../../src/formats/index.ts";
import { CLI, ROOT, shellfree } from "../../../helpers/cli.ts";
import { TEST_CACHE } from "../../../helpers/mirror.ts";
import { runCommand } from "../../../helpers/run.ts";

export { CLI, ROOT };
export const SPEC = join(ROOT, "examples/squid-proxy/shellfree.yaml");
export const STRUCTURE_TEST = join(ROOT, "examples/squid-proxy/structure-test.yaml");
/** the Node the repo pins (runs the origin servers) */
export const NODE = join(ROOT, "node_modules/node/bin/node");
export const ARCH = process.arch === "arm64" ? "arm64" : "amd64";

export interface SquidImage {
  /** oci:DIR */
  layout: string;
  /** docker-archive FILE (for podman) */
  dockerArchive: string;
  /** the unpacked root filesystem (umoci) */
  rootfs: string;
  config: OciImageConfig;
  /** `shellfree build --json` */
  // biome-ignore lint/suspicious/noExplicitAny: the build's JSON report, read field by field
  build: any;
  /** what the build printed on stderr */
  buildLog: string;
}

function must(r: { code: number | null; stderr: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}`);
}

/** Read the image config of the (single-platform) OCI layout at `dir`. */
export function imageConfigOf(dir: string): OciImageConfig {
  const blob = (digest: string) => readFileSync(join(dir, "blobs", digest.replace(":", "/")), "utf8");
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const manifest = JSON.parse(blob(index.manifests[0].digest));
  return JSON.parse(blob(manifest.config.digest)) as OciImageConfig;
}

export async function buildSquidImage(
  dir: string,
  opts: { dockerArchive?: boolean } = {},
): Promise<SquidImage> {
  const common = ["build", "-f", SPEC, "--arch", ARCH, "--cache-dir", TEST_CACHE];
  const env = { SHELLFREE_QUIET: "0" };
  const b = await shellfree([...common, "--output", `oci:${dir}/oci:latest`, "--json"], { env });
  must(b, "shellfree build");
  const dockerArchive = join(dir, "squid-proxy.tar");
  if (opts.dockerArchive !== false) {
    must(
      await shellfree(
        [...common, "--output", `docker-archive:${dockerArchive}:squid-proxy:test`, "--no-sbom"],
        {
          env,
        },
      ),
      "shellfree build (docker-archive)",
    );
  }
  const bundle = join(dir, "bundle");
  must(
    await runCommand("umoci", ["unpack", "--image", `${dir}/oci:latest`, bundle], {
      allowFail: true,
      timeoutMs: 120_000,
    }),
    "umoci unpack",
  );
  return {
    layout: join(dir, "oci"),
    dockerArchive,
    rootfs: join(bundle, "rootfs"),
    config: imageConfigOf(join(dir, "oci")),
    build: JSON.parse(b.stdout),
    buildLog: b.stderr,
  };
}
