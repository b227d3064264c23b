/**
 * `shellfree generate-key-pair`: a new ECDSA P-256 key pair as cosign writes it — `cosign.key`
 * (ENCRYPTED SIGSTORE PRIVATE KEY: scrypt + NaCl secretbox, password from $COSIGN_PASSWORD or
 * asked twice on a terminal; mode 0600) and `cosign.pub` (PEM SPKI). cosign reads both.
 */
import type { Command } from "commander";
import { action, output } from "./common.ts";

export function register(program: Command): void {
  program
    .command("generate-key-pair")
    .description("make a cosign-compatible key pair (cosign.key encrypted with $COSIGN_PASSWORD, cosign.pub)")
    .option("--output-key-prefix <prefix>", "write PREFIX.key and PREFIX.pub", "cosign")
    .option("--force", "replace existing files")
    .option("--json", "print the result as JSON")
    .action(
      action(async (o: { outputKeyPrefix: string; force?: boolean; json?: boolean }) => {
        const { generateKeyPair } = await import("../sign/index.ts");
        const r = await generateKeyPair(o.outputKeyPrefix, { force: o.force });
        output(
          o.json === true,
          r,
          () => `private key written to ${r.privateKey}\npublic key written to ${r.publicKey}`,
        );
      }),
    );
}
