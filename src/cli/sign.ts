/**
 * `shellfree sign IMAGE --key KEY`: sign an image in a registry as cosign does (by digest; a tag
 * is resolved first): the simple-signing payload under the tag `sha256-<hex>.sig` and a Sigstore
 * bundle attached as an OCI 1.1 referrer. Keys: cosign's encrypted cosign.key (COSIGN_PASSWORD,
 * else a prompt on a terminal) or a PEM PKCS#8 key. No transparency log, no keyless signing.
 */
import type { Command } from "commander";
import { ShellfreeError } from "../errors.ts";
import type { SignatureFormat } from "../sign/index.ts";
import { info } from "../util/progress.ts";
import { action, addRegistryOptions, checkRegistryFlags, output, type RegistryFlags } from "./common.ts";

interface SignFlags extends RegistryFlags {
  key: string;
  annotation?: string[];
  recursive?: boolean;
  format: string;
  json?: boolean;
}

/** `-a key=value` (repeatable) → annotations */
export function collectAnnotation(value: string, previous: string[] = []): string[] {
  return previous.concat(value);
}

export function parseAnnotations(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) {
    const eq = a.indexOf("=");
    if (eq <= 0) {
      throw new ShellfreeError("E_USAGE", `annotation "${a}" is not KEY=VALUE`, { exitCode: 2 });
    }
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

export function parseFormats(v: string): SignatureFormat[] {
  if (v === "both") return ["sig", "bundle"];
  if (v === "sig" || v === "bundle") return [v];
  throw new ShellfreeError("E_USAGE", `--format must be sig, bundle or both, not "${v}"`, { exitCode: 2 });
}

export function register(program: Command): void {
  const cmd = program
    .command("sign")
    .description(
      "sign an image in a registry with a key, as cosign does (a .sig tag and a Sigstore bundle referrer; no cosign needed; no keyless signing)",
    )
    .argument(
      "<image>",
      "HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (registry: or docker:// prefix allowed)",
    )
    .requiredOption(
      "--key <file>",
      "private key: cosign.key (password from $COSIGN_PASSWORD, else asked on a terminal) or PEM PKCS#8",
    )
    .option("-a, --annotation <key=value>", "signed annotation (repeatable)", collectAnnotation)
    .option("-r, --recursive", "an image index: sign each platform manifest too")
    .option(
      "--format <format>",
      "sig (the sha256-<hex>.sig tag: cosign 2), bundle (Sigstore bundle referrer: cosign 3), both",
      "both",
    )
    .option("--json", "print the result as JSON");
  addRegistryOptions(cmd).action(
    action(async (image: string, o: SignFlags) => {
      checkRegistryFlags(o);
      const formats = parseFormats(o.format);
      const annotations = parseAnnotations(o.annotation);
      const { loadSigner, signImage } = await import("../sign/index.ts");
      const signer = await loadSigner(o.key);
      const r = await signImage(image, {
        signer,
        formats,
        annotations,
        recursive: o.recursive,
        creds: o.creds,
        insecure: o.insecure,
        tlsVerify: o.tlsVerify,
        onProgress: info,
      });
      output(o.json === true, r, () =>
        [
          `signed ${r.repository}@${r.digest} with ${r.signer}`,
          ...r.signed.map((t) => {
            const parts = [
              t.sig
                ? `${t.sig.tag} (${t.sig.added ? "added" : "signed already"}; ${t.sig.signatures} signature(s))`
                : "",
              t.bundle
                ? `bundle ${t.bundle.manifest} (${
                    t.bundle.added
                      ? t.bundle.referrers === "tag"
                        ? `referrers tag ${t.bundle.tag}`
                        : "referrers API"
                      : "signed already"
                  })`
                : "",
            ].filter(Boolean);
            return `  ${t.digest}${t.platform ? ` ${t.platform}` : ""}: ${parts.join(", ")}`;
          }),
        ].join("\n"),
      );
    }),
  );
}
