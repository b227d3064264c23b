/**
 * The signing subsystem's API: sign images in a registry and verify their signatures as cosign
 * does, with keys (no cosign binary, no transparency log), and make cosign-compatible key pairs.
 *
 *   const signer = await loadSigner("cosign.key");          // COSIGN_PASSWORD or a TTY prompt
 *   await signImage("HOST/REPO:TAG", { signer });            // .sig tag + Sigstore bundle referrer
 *   const r = await verifyImage("HOST/REPO:TAG", { verifier: await loadVerifier("cosign.pub") });
 */
import { readFile, stat } from "node:fs/promises";
import { writeFileAtomic } from "../util/atomic.ts";
import { SignError } from "./errors.ts";
import { generateCosignKeyPair, parsePrivateKey, parsePublicKey } from "./keys.ts";
import { readPassword } from "./password.ts";
import { keySigner, keyVerifier, type SignatureVerifier, type Signer } from "./signer.ts";

export { SignError } from "./errors.ts";
export { keyHint, parsePrivateKey, parsePublicKey } from "./keys.ts";
export {
  type SignatureFormat,
  type SignedTarget,
  type SignOptions,
  type SignResult,
  signImage,
} from "./sign.ts";
export type {
  SignatureEvidence,
  SignatureVerifier,
  Signer,
  VerificationMaterial,
  VerifyOutcome,
} from "./signer.ts";
export { keySigner, keyVerifier } from "./signer.ts";
export { type SignatureCheck, type VerifyOptions, type VerifyResult, verifyImage } from "./verify.ts";

async function readKeyFile(file: string): Promise<string> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new SignError("E_KEY", `${file} is not a file`);
    if (st.size > 1 << 20) throw new SignError("E_KEY", `${file} is too large to be a key file`);
    return await readFile(file, "utf8");
  } catch (e) {
    if (e instanceof SignError) throw e;
    throw new SignError(
      "E_KEY",
      `cannot read the key ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** A signer from a private key file: cosign's encrypted key (password: COSIGN_PASSWORD or a prompt) or PEM. */
export async function loadSigner(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  const text = await readKeyFile(file);
  const key = await parsePrivateKey(text, file, () => readPassword({ what: file, env }));
  return keySigner(key, file);
}

/** A verifier from a public key file (PEM SPKI, e.g. cosign.pub). */
export async function loadVerifier(file: string): Promise<SignatureVerifier> {
  return keyVerifier(parsePublicKey(await readKeyFile(file), file), file);
}

export interface GenerateKeyPairResult {
  privateKey: string;
  publicKey: string;
  hint: string;
}

/**
 * Write `PREFIX.key` (encrypted as cosign does, mode 0600) and `PREFIX.pub`. Refuses to replace
 * existing files unless `force`.
 */
export async function generateKeyPair(
  prefix: string,
  opts: { force?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<GenerateKeyPairResult> {
  const privateKey = `${prefix}.key`;
  const publicKey = `${prefix}.pub`;
  if (!opts.force) {
    for (const f of [privateKey, publicKey]) {
      if (
        await stat(f).then(
          () => true,
          () => false,
        )
      ) {
        throw new SignError("E_KEY", `${f} exists already`, {
          hint: "remove it, choose another prefix, or pass --force",
        });
      }
    }
  }
  const password = await readPassword({ what: `the new key ${privateKey}`, confirm: true, env: opts.env });
  const pair = generateCosignKeyPair(password);
  await writeFileAtomic(privateKey, pair.privatePem, 0o600);
  await writeFileAtomic(publicKey, pair.publicPem, 0o644);
  return { privateKey, publicKey, hint: pair.hint };
}
