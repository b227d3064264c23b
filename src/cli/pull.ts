/**
 * `shellfree pull SRC --output oci:DIR[:TAG]`: pull an image (HOST[:PORT]/REPO[:TAG|@DIGEST])
 * from a registry into an OCI layout, every blob verified against its digest while it streams.
 */
import type { Command } from "commander";
import { parseLayoutRef, pullToLayout } from "../oci/index.ts";
import { humanBytes } from "../util/progress.ts";
import { action, addRegistryOptions, checkRegistryFlags, output, type RegistryFlags } from "./common.ts";

interface PullFlags extends RegistryFlags {
  output: string;
  platform?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("pull")
    .description("pull an image from a registry into an OCI layout (no daemon)")
    .argument("<src>", "the image: HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]")
    .requiredOption(
      "-o, --output <oci:DIR[:TAG]>",
      "the OCI layout to write (created, or the tag added to it)",
    )
    .option(
      "--platform <os/arch[/variant]>",
      "from a multi-platform image, only this platform (default: all)",
    );
  addRegistryOptions(cmd)
    .option("--json", "print the result as JSON")
    .action(
      action(async (src: string, o: PullFlags) => {
        checkRegistryFlags(o);
        const r = await pullToLayout(src, o.output, {
          platform: o.platform,
          creds: o.creds,
          insecure: o.insecure,
          tlsVerify: o.tlsVerify,
        });
        output(o.json === true, { ...r, output: o.output }, () =>
          [
            `pulled ${r.digest} into ${parseLayoutRef(o.output).dir}${r.tag ? ` (tag ${r.tag})` : ""}`,
            `blobs: ${r.blobs} (${humanBytes(r.bytes)} downloaded)${r.attestations ? `; ${r.attestations} attestation(s): attached SBOMs` : ""}`,
          ].join("\n"),
        );
      }),
    );
}
