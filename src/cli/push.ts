/**
 * `shellfree push IMAGE DEST`: push an image from an OCI layout (oci:DIR[:TAG]; an
 * oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME[:TAG]] through a temporary one) to a registry
 * (HOST[:PORT]/REPO[:TAG|@DIGEST]) over the OCI Distribution API. Progress per blob on stderr;
 * the pushed digest and references on stdout (`--json` for a machine-readable summary). A single
 * image's attached SBOMs (its attestation manifest) become an OCI 1.1 referrer of it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { ShellfreeError } from "../errors.ts";
import {
  type DockerArchiveImageRef,
  dockerArchiveToLayout,
  parseImageRef,
  pushLayout,
  unpackOciArchive,
} from "../oci/index.ts";
import { humanBytes } from "../util/progress.ts";
import {
  action,
  addRegistryOptions,
  checkRegistryFlags,
  collectList,
  output,
  type RegistryFlags,
} from "./common.ts";

interface PushFlags extends RegistryFlags {
  tag?: string[];
  from?: string[];
  jobs?: string;
  chunkSize?: string;
  json?: boolean;
}

function intFlag(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ShellfreeError("E_USAGE", `${flag} must be an integer >= ${min}, got "${v}"`, { exitCode: 2 });
  }
  return n;
}

/**
 * Run `f` on an oci: reference for `image`: itself; for oci-archive:FILE[:TAG] the archive
 * unpacked into a temporary layout; for docker-archive:FILE[:NAME[:TAG]] the image written as one
 * (layers gzip-compressed, as skopeo copies it). The temporary layout is removed afterwards, also
 * on Ctrl-C.
 */
async function withLayout<T>(image: string, f: (layout: string) => Promise<T>): Promise<T> {
  if (!image.startsWith("oci-archive:") && !image.startsWith("docker-archive:")) return f(image);
  const r = parseImageRef(image);
  if (r.transport !== "oci-archive" && r.transport !== "docker-archive") return f(image);
  if (r.transport === "oci-archive" && r.digest)
    throw new ShellfreeError("E_USAGE", `${image}: push takes a tag, not a digest, from an archive`, {
      exitCode: 2,
    });
  const dir = await mkdtemp(join(tmpdir(), "shellfree-push-"));
  const onSignal = (sig: NodeJS.Signals) =>
    void rm(dir, { recursive: true, force: true }).finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const layout = join(dir, "layout");
    if (r.transport === "oci-archive") {
      await unpackOciArchive(r.path, layout);
      return await f(`oci:${layout}${r.tag ? `:${r.tag}` : ""}`);
    }
    await dockerArchiveToLayout(r as DockerArchiveImageRef, layout, "pushed");
    return await f(`oci:${layout}:pushed`);
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    await rm(dir, { recursive: true, force: true });
  }
}

export function register(program: Command): void {
  const cmd = program
    .command("push")
    .description(
      "push an image from an OCI layout to a registry (no daemon); attached SBOMs go along (OCI 1.1 referrers)",
    )
    .argument(
      "<image>",
      "the image: oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME[:TAG]]",
    )
    .argument(
      "<dest>",
      "where to: HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (registry: or docker:// prefix allowed)",
    )
    .option("-t, --tag <tag>", "also push under this tag (repeatable, or comma-separated)", collectList);
  addRegistryOptions(cmd)
    .option("--from <repo>", "repository of the same registry to mount blobs from (repeatable)", collectList)
    .option("-j, --jobs <n>", "blobs uploaded in parallel", "3")
    .option("--chunk-size <bytes>", "upload in chunks of this many bytes (PATCH) instead of one PUT per blob")
    .option("--json", "print the result as JSON")
    .action(
      action(async (image: string, dest: string, o: PushFlags) => {
        checkRegistryFlags(o);
        const jobs = intFlag("--jobs", o.jobs, 1);
        const chunkSize = intFlag("--chunk-size", o.chunkSize, 1024);
        const r = await withLayout(image, (layout) =>
          pushLayout(layout, dest, {
            tags: o.tag,
            creds: o.creds,
            insecure: o.insecure,
            tlsVerify: o.tlsVerify,
            from: o.from,
            concurrency: jobs,
            chunkSize,
          }),
        );
        output(o.json === true, r, () =>
          [
            `pushed ${r.digest}`,
            ...r.tags.map((t) => `  ${t}`),
            `blobs: ${r.uploaded} uploaded (${humanBytes(r.bytes)}), ${r.mounted} mounted, ${r.skipped} already there; ${r.manifests} manifest(s)${r.attestations ? ` (${r.attestations} attestation(s): attached SBOMs)` : ""}`,
            ...(r.referrers
              ? [
                  `attached SBOMs: ${r.referrers.attestation}, a referrer of ${r.referrers.subject} (${
                    r.referrers.method === "api"
                      ? "the registry's referrers API"
                      : `referrers tag ${r.referrers.tag}${r.referrers.added ? "" : ", listed already"}`
                  })`,
                ]
              : []),
          ].join("\n"),
        );
      }),
    );
}
