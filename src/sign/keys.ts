/**
 * Key files as cosign reads and writes them:
 *
 * - cosign's encrypted private key (`ENCRYPTED SIGSTORE PRIVATE KEY`, older files
 *   `ENCRYPTED COSIGN PRIVATE KEY`): a PEM block whose body is JSON — the scrypt KDF (N, r, p,
 *   salt), the NaCl secretbox cipher (nonce) and the ciphertext of the key's PKCS#8 DER —
 *   the format of go-securesystemslib's `encrypted` package;
 * - plain PEM private keys (PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, password-protected
 *   PKCS#8 `ENCRYPTED PRIVATE KEY`) and SPKI public keys (`PUBLIC KEY`).
 *
 * shellfree signs with ECDSA P-256 / SHA-256 keys (what `cosign generate-key-pair` makes).
 * No key material or password ever appears in a message.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  scryptSync,
} from "node:crypto";
import nacl from "tweetnacl";
import { SignError } from "./errors.ts";

export const PEM_SIGSTORE_KEY = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const PEM_COSIGN_KEY = "ENCRYPTED COSIGN PRIVATE KEY";

/** The scrypt parameters go-securesystemslib accepts (legacy, standard — the default — and OWASP). */
const SCRYPT_PARAMS: Array<{ N: number; r: number; p: number }> = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];
const SCRYPT_DEFAULT = SCRYPT_PARAMS[1];

export interface PemBlock {
  type: string;
  body: Buffer;
}

/** The PEM blocks of a text (type and decoded body), in order. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const b64 = m[2].replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) continue;
    out.push({ type: m[1], body: Buffer.from(b64, "base64") });
  }
  return out;
}

/** A PEM block: base64 in lines of 64 characters. */
export function pem(type: string, body: Uint8Array): string {
  const b64 = Buffer.from(body).toString("base64");
  return `-----BEGIN ${type}-----\n${b64.match(/.{1,64}/g)?.join("\n") ?? ""}\n-----END ${type}-----\n`;
}

/** base64(SHA-256(SPKI DER)): the key's id in Sigstore bundles (`publicKey.hint`). */
export function keyHint(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256")
    .update(pub.export({ type: "spki", format: "der" }))
    .digest("base64");
}

/** Refuse anything but an ECDSA P-256 key, naming what it is. */
export function requireP256(key: KeyObject, file: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === "ec" && (curve === "prime256v1" || curve === "P-256")) return;
  const what =
    key.asymmetricKeyType === "ec"
      ? `an ECDSA ${curve ?? "?"} key`
      : `an ${String(key.asymmetricKeyType).toUpperCase()} key`;
  throw new SignError("E_KEY", `${file} is ${what}; shellfree signs and verifies with ECDSA P-256 keys`, {
    hint: "make one with `shellfree generate-key-pair` or `cosign generate-key-pair`",
  });
}

interface EncryptedKeyDoc {
  kdf?: { name?: string; params?: { N?: number; r?: number; p?: number }; salt?: string };
  cipher?: { name?: string; nonce?: string };
  ciphertext?: string;
}

function b64field(v: unknown, what: string, file: string): Buffer {
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
    throw new SignError("E_KEY", `${file}: the encrypted key has no valid ${what}`);
  }
  return Buffer.from(v, "base64");
}

/** Decrypt the body of an `ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY` block into PKCS#8 DER. */
export function decryptCosignKey(body: Uint8Array, password: string, file: string): Buffer {
  let doc: EncryptedKeyDoc;
  try {
    doc = JSON.parse(Buffer.from(body).toString("utf8")) as EncryptedKeyDoc;
  } catch {
    throw new SignError("E_KEY", `${file}: the encrypted key is not cosign's format (its body is not JSON)`);
  }
  if (doc?.kdf?.name !== "scrypt") {
    throw new SignError(
      "E_KEY",
      `${file}: unsupported key derivation "${String(doc?.kdf?.name)}" (scrypt expected)`,
    );
  }
  if (doc.cipher?.name !== "nacl/secretbox") {
    throw new SignError(
      "E_KEY",
      `${file}: unsupported cipher "${String(doc.cipher?.name)}" (nacl/secretbox expected)`,
    );
  }
  const p = doc.kdf.params ?? {};
  const params = SCRYPT_PARAMS.find((s) => s.N === p.N && s.r === p.r && s.p === p.p);
  if (!params) {
    throw new SignError("E_KEY", `${file}: unsupported scrypt parameters N=${p.N} r=${p.r} p=${p.p}`);
  }
  const salt = b64field(doc.kdf.salt, "salt", file);
  const nonce = b64field(doc.cipher.nonce, "nonce", file);
  const ciphertext = b64field(doc.ciphertext, "ciphertext", file);
  if (nonce.length !== nacl.secretbox.nonceLength) {
    throw new SignError(
      "E_KEY",
      `${file}: the nonce has ${nonce.length} bytes, not ${nacl.secretbox.nonceLength}`,
    );
  }
  const key = scrypt(password, salt, params);
  const plain = nacl.secretbox.open(ciphertext, nonce, key);
  key.fill(0);
  if (!plain) {
    throw new SignError("E_PASSWORD", `cannot decrypt ${file}: wrong password`, {
      hint: "the password comes from $COSIGN_PASSWORD, else it is asked for on the terminal",
    });
  }
  return Buffer.from(plain);
}

function scrypt(password: string, salt: Uint8Array, p: { N: number; r: number; p: number }): Buffer {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below the standard parameters
  return scryptSync(Buffer.from(password, "utf8"), salt, nacl.secretbox.keyLength, {
    N: p.N,
    r: p.r,
    p: p.p,
    maxmem: 256 * p.N * p.r + (1 << 20),
  });
}

/** Encrypt PKCS#8 DER as cosign does (scrypt N=65536 r=8 p=1, random salt and nonce): the PEM body. */
export function encryptCosignKey(pkcs8: Uint8Array, password: string): Buffer {
  const salt = randomBytes(32);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const key = scrypt(password, salt, SCRYPT_DEFAULT);
  const ciphertext = nacl.secretbox(pkcs8, nonce, key);
  key.fill(0);
  // the field order of go-securesystemslib's JSON
  const doc = {
    kdf: {
      name: "scrypt",
      params: { N: SCRYPT_DEFAULT.N, r: SCRYPT_DEFAULT.r, p: SCRYPT_DEFAULT.p },
      salt: salt.toString("base64"),
    },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(ciphertext).toString("base64"),
  };
  return Buffer.from(JSON.stringify(doc));
}

/** Whether a private key file needs a password (cosign's encrypted formats, encrypted PKCS#8). */
export function privateKeyNeedsPassword(text: string): boolean {
  return pemBlocks(text).some(
    (b) => b.type === PEM_SIGSTORE_KEY || b.type === PEM_COSIGN_KEY || b.type === "ENCRYPTED PRIVATE KEY",
  );
}

/**
 * The private key in `text` (the contents of `file`). `password()` is called only for an
 * encrypted key.
 */
export async function parsePrivateKey(
  text: string,
  file: string,
  password: () => Promise<string>,
): Promise<KeyObject> {
  const blocks = pemBlocks(text);
  const block = blocks.find((b) => /PRIVATE KEY$/.test(b.type));
  if (!block) {
    const other = blocks[0]?.type;
    throw new SignError(
      "E_KEY",
      other ? `${file} holds a ${other}, not a private key` : `${file} is not a PEM private key`,
      { hint: "give a cosign key (cosign.key) or a PEM PKCS#8 private key" },
    );
  }
  let key: KeyObject;
  try {
    if (block.type === PEM_SIGSTORE_KEY || block.type === PEM_COSIGN_KEY) {
      const der = decryptCosignKey(block.body, await password(), file);
      try {
        key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
      } finally {
        der.fill(0);
      }
    } else if (block.type === "ENCRYPTED PRIVATE KEY") {
      key = createPrivateKey({
        key: pem(block.type, block.body),
        format: "pem",
        passphrase: await password(),
      });
    } else if (block.type === "PRIVATE KEY" || block.type === "EC PRIVATE KEY") {
      key = createPrivateKey({ key: pem(block.type, block.body), format: "pem" });
    } else {
      throw new SignError("E_KEY", `${file}: unsupported key type "${block.type}"`);
    }
  } catch (e) {
    if (e instanceof SignError) throw e;
    const code = (e as { code?: string }).code ?? "";
    if (block.type === "ENCRYPTED PRIVATE KEY" && /DECRYPT|BAD_DECRYPT|PASSPHRASE/i.test(code + String(e))) {
      throw new SignError("E_PASSWORD", `cannot decrypt ${file}: wrong password`);
    }
    // node's message names the parse failure, never the key bytes
    throw new SignError("E_KEY", `${file}: not a usable ${block.type} (${code || "unreadable"})`);
  }
  requireP256(key, file);
  return key;
}

/** The public key in `text` (the contents of `file`): a PEM SPKI `PUBLIC KEY`. */
export function parsePublicKey(text: string, file: string): KeyObject {
  const blocks = pemBlocks(text);
  const block = blocks.find((b) => b.type === "PUBLIC KEY");
  if (!block) {
    const other = blocks[0]?.type;
    throw new SignError(
      "E_KEY",
      other ? `${file} holds a ${other}, not a public key` : `${file} is not a PEM public key`,
      { hint: "give the public key (cosign.pub, `-----BEGIN PUBLIC KEY-----`)" },
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block.body, format: "der", type: "spki" });
  } catch (e) {
    throw new SignError(
      "E_KEY",
      `${file}: not a usable public key (${(e as { code?: string }).code ?? "unreadable"})`,
    );
  }
  requireP256(key, file);
  return key;
}

export interface GeneratedKeyPair {
  /** the encrypted private key file's text (ENCRYPTED SIGSTORE PRIVATE KEY) */
  privatePem: string;
  /** the public key file's text (PUBLIC KEY) */
  publicPem: string;
  hint: string;
}

/** A new ECDSA P-256 key pair as cosign writes it (the private key encrypted with `password`). */
export function generateCosignKeyPair(password: string): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = privateKey.export({ type: "pkcs8", format: "der" });
  const body = encryptCosignKey(der, password);
  der.fill(0);
  return {
    privatePem: pem(PEM_SIGSTORE_KEY, body),
    publicPem: pem("PUBLIC KEY", publicKey.export({ type: "spki", format: "der" })),
    hint: keyHint(publicKey),
  };
}
