/**
 * `shellfree pull SRC DEST` (DEST also as `-o/--output`): pull an image
 * (HOST[:PORT]/REPO[:TAG|@DIGEST]) from a registry into an OCI layout (oci:DIR[:TAG]), every blob
 * verified against its digest while it streams.
 */
import type { Command } from "commander";
import { parseLayoutRef, pullToLayout } from "../oci/index.ts";
import { humanBytes } from "../util/progress.ts";
import {
  action,
  addRegistryOptions,
  checkRegistryFlags,
  output,
  positionalOrOption,
  type RegistryFlags,
} from "./common.ts";

interface PullFlags extends RegistryFlags {
  output?: string;
  platform?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("pull")
    .description("pull an image from a registry into an OCI layout (no daemon)")
    .argument("<src>", "the image: HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]")
    .argument("[dest]", "the OCI layout to write, oci:DIR[:TAG] (created, or the tag added to it)")
    .option("-o, --output <oci:DIR[:TAG]>", "the same as DEST")
    .option(
      "--platform <os/arch[/variant]>",
      "from a multi-platform image, only this platform (default: all)",
    );
  addRegistryOptions(cmd)
    .option("--json", "print the result as JSON")
    .action(
      action(async (src: string, destArg: string | undefined, o: PullFlags) => {
        checkRegistryFlags(o);
        const dest = positionalOrOption("DEST", destArg, "--output", o.output);
        const r = await pullToLayout(src, dest, {
          platform: o.platform,
          creds: o.creds,
          insecure: o.insecure,
          tlsVerify: o.tlsVerify,
        });
        output(o.json === true, { ...r, output: dest }, () =>
          [
            `pulled ${r.digest} into ${parseLayoutRef(dest).dir}${r.tag ? ` (tag ${r.tag})` : ""}`,
            `blobs: ${r.blobs} (${humanBytes(r.bytes)} downloaded)${r.attestations ? `; ${r.attestations} attestation(s): attached SBOMs` : ""}`,
          ].join("\n"),
        );
      }),
    );
}
