/**
 * `shellfree verify-signature IMAGE --key PUB`: check an image's cosign signatures (the
 * `sha256-<hex>.sig` tag and Sigstore bundle referrers) with a public key. Exit 0 when one
 * signature passes every check, 3 when none does (one line on stderr says why), 1 for bad input.
 */
import type { Command } from "commander";
import { action, addRegistryOptions, checkRegistryFlags, output, type RegistryFlags } from "./common.ts";
import { collectAnnotation, parseAnnotations, parseFormats } from "./sign.ts";

interface VerifyFlags extends RegistryFlags {
  key: string;
  annotation?: string[];
  identity?: string;
  format: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("verify-signature")
    .description(
      "check an image's cosign signatures with a public key (no cosign needed; exit 3 when none is valid)",
    )
    .argument(
      "<image>",
      "HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (registry: or docker:// prefix allowed)",
    )
    .requiredOption("--key <file>", "public key (PEM, e.g. cosign.pub)")
    .option("-a, --annotation <key=value>", "require this signed annotation (repeatable)", collectAnnotation)
    .option("--identity <host/repo>", "the repository signatures must name (default: the image's)")
    .option(
      "--format <format>",
      "where to look: sig (the .sig tag), bundle (Sigstore bundle referrers), both",
      "both",
    )
    .option("--json", "print the result as JSON (also when verification fails)");
  addRegistryOptions(cmd).action(
    action(async (image: string, o: VerifyFlags) => {
      checkRegistryFlags(o);
      const formats = parseFormats(o.format);
      const annotations = parseAnnotations(o.annotation);
      const { loadVerifier, SignError, verifyImage } = await import("../sign/index.ts");
      const verifier = await loadVerifier(o.key);
      const r = await verifyImage(image, {
        verifier,
        formats,
        annotations,
        identity: o.identity,
        creds: o.creds,
        insecure: o.insecure,
        tlsVerify: o.tlsVerify,
      });
      const valid = r.signatures.filter((s) => s.ok);
      if (o.json || r.verified) {
        output(o.json === true, r, () =>
          [
            `verified ${r.repository}@${r.digest} with ${r.key}: ${valid.length} of ${r.signatures.length} signature(s) valid`,
            ...r.signatures.map(
              (s) => `  ${s.ok ? "ok  " : "FAIL"} ${s.source}${s.ok ? "" : `: ${s.problem}`}`,
            ),
          ].join("\n"),
        );
      }
      if (!r.verified) throw new SignError("E_SIGNATURE", r.problem ?? "not verified", { exitCode: 3 });
    }),
  );
}
