/**
 * `shellfree inspect IMAGE`: platforms, digests, layers and sizes, and a config summary of an
 * image in an OCI layout, oci-archive, docker-archive or a registry (docker://, registry:), and
 * the SBOMs attached to it (attestation manifests). Every manifest and config is verified against
 * its digest while reading; every local layer is read once (decompressed, its digest and diffId
 * checked), so a missing or corrupt layer blob is an error naming it, not a clean summary. A registry image is pulled into a
 * temporary layout first (every blob verified, as `pull` does; removed afterwards).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Command } from "commander";
import {
  type AttachedAttestation,
  listAttestations,
  listManifests,
  openImage,
  parseImageRef,
  platformString,
  pullToLayout,
} from "../oci/index.ts";
import { humanBytes } from "../util/progress.ts";
import { action, addRegistryOptions, checkRegistryFlags, output, type RegistryFlags } from "./common.ts";

interface InspectFlags extends RegistryFlags {
  platform?: string;
  json?: boolean;
}

/** inspectImage for any reference: a registry one through a temporary pull. */
export async function inspectRef(
  ref: string,
  platform: string | undefined,
  registry: RegistryFlags = {},
): Promise<{ ref: string; images: InspectedImage[] }> {
  if (parseImageRef(ref).transport !== "registry") return inspectImage(ref, platform);
  const dir = await mkdtemp(join(tmpdir(), "shellfree-inspect-"));
  const onSignal = (sig: NodeJS.Signals) =>
    void rm(dir, { recursive: true, force: true }).finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const local = `oci:${join(dir, "layout")}:pulled`;
    await pullToLayout(ref, local, { platform, ...registry, silent: true });
    return { ...(await inspectImage(local, platform)), ref };
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    await rm(dir, { recursive: true, force: true });
  }
}

export interface InspectedImage {
  platform: string;
  manifestDigest: string;
  manifestMediaType?: string;
  configDigest: string;
  created?: string;
  layers: Array<{ digest: string; diffId?: string; mediaType: string; size: number }>;
  size: number;
  /** attestations attached to this image (SBOMs): one line each in the text output */
  attestations: Array<{
    digest: string;
    /** named by index.json but not in the layout */
    missing?: true;
    statements: AttachedAttestation["statements"];
  }>;
  config: {
    entrypoint?: string[] | null;
    cmd?: string[] | null;
    user?: string;
    env?: string[] | null;
    workingDir?: string;
    exposedPorts?: string[];
    volumes?: string[];
    labels?: Record<string, string> | null;
    stopSignal?: string;
    healthcheck?: unknown;
  };
}

async function drain(s: Readable): Promise<void> {
  for await (const _ of s) {
    // only the checks made while it flows matter
  }
}

/** Summaries of the images `ref` holds (all platforms, or only `platform`). */
export async function inspectImage(
  ref: string,
  platform?: string,
): Promise<{ ref: string; images: InspectedImage[] }> {
  const plats = platform ? [platform] : (await listManifests(ref)).map((m) => platformString(m.platform));
  const attestations = await listAttestations(ref);
  const images: InspectedImage[] = [];
  for (const p of plats) {
    const im = await openImage(ref, { platform: p });
    try {
      for (const l of im.layers) await drain(await l.open());
      const c = im.config.config ?? {};
      images.push({
        platform: platformString(im.platform),
        manifestDigest: im.manifestDigest,
        manifestMediaType: im.manifest.mediaType,
        configDigest: im.configDigest,
        created: im.config.created,
        layers: im.layers.map((l) => ({
          digest: l.digest,
          diffId: l.diffId,
          mediaType: l.mediaType,
          size: l.size,
        })),
        size: im.layers.reduce((n, l) => n + l.size, 0),
        attestations: attestations
          .filter((a) => a.subject === im.manifestDigest)
          .map((a) => ({
            digest: a.digest,
            ...(a.missing ? { missing: a.missing } : {}),
            statements: a.statements,
          })),
        config: {
          entrypoint: c.Entrypoint,
          cmd: c.Cmd,
          user: c.User,
          env: c.Env,
          workingDir: c.WorkingDir,
          exposedPorts: c.ExposedPorts ? Object.keys(c.ExposedPorts) : undefined,
          volumes: c.Volumes ? Object.keys(c.Volumes) : undefined,
          labels: c.Labels,
          stopSignal: c.StopSignal,
          healthcheck: c.Healthcheck,
        },
      });
    } finally {
      await im.close();
    }
  }
  return { ref, images };
}

function text(r: { ref: string; images: InspectedImage[] }): string {
  const lines: string[] = [r.ref];
  for (const im of r.images) {
    lines.push(
      "",
      `${im.platform}  manifest ${im.manifestDigest}`,
      `  config ${im.configDigest}${im.created ? `  created ${im.created}` : ""}`,
    );
    lines.push(`  layers: ${im.layers.length}, ${humanBytes(im.size)} compressed`);
    for (const l of im.layers)
      lines.push(`    ${l.digest}  ${humanBytes(l.size).padStart(10)}  ${l.mediaType}`);
    for (const a of im.attestations) {
      if (a.missing)
        lines.push(`  ${"sbom missing".padEnd(14)} attestation ${a.digest} is named but not in the layout`);
      for (const st of a.statements) {
        const what = st.kind === "SPDX" || st.kind === "CycloneDX" ? `sbom ${st.kind}` : st.kind;
        lines.push(
          `  ${what.padEnd(14)} ${st.digest}  ${humanBytes(st.size).padStart(10)}  (attached: attestation ${a.digest})`,
        );
      }
    }
    const c = im.config;
    const show = (k: string, v: unknown) => {
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
        lines.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    };
    show("entrypoint", c.entrypoint);
    show("cmd", c.cmd);
    show("user", c.user);
    show("workdir", c.workingDir);
    show("env", c.env);
    show("ports", c.exposedPorts);
    show("volumes", c.volumes);
    show("stop-signal", c.stopSignal);
    show("healthcheck", c.healthcheck);
    show("labels", c.labels);
  }
  return lines.join("\n");
}

export function register(program: Command): void {
  const cmd = program
    .command("inspect")
    .description(
      "show platforms, digests, layers, the config and the attached SBOMs of an image (no runtime needed)",
    )
    .argument(
      "<image>",
      "oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME[:TAG]] or docker://HOST[:PORT]/REPO[:TAG|@sha256:...] (also registry:)",
    )
    .option("--platform <os/arch[/variant]>", "only this platform of a multi-platform image");
  addRegistryOptions(cmd)
    .option("--json", "print the result as JSON")
    .action(
      action(async (ref: string, o: InspectFlags) => {
        checkRegistryFlags(o);
        const r = await inspectRef(ref, o.platform, {
          creds: o.creds,
          insecure: o.insecure,
          tlsVerify: o.tlsVerify,
        });
        output(o.json === true, r, () => text(r));
      }),
    );
}
