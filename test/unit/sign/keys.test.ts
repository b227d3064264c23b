import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, randomBytes, scryptSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import nacl from "tweetnacl";
import { generateKeyPair, loadSigner, loadVerifier } from "../../../src/sign/index.ts";
import {
  decryptCosignKey,
  encryptCosignKey,
  generateCosignKeyPair,
  keyHint,
  parsePrivateKey,
  parsePublicKey,
  pem,
  pemBlocks,
} from "../../../src/sign/keys.ts";
import { readPassword } from "../../../src/sign/password.ts";
import { COSIGN_PUB } from "./cosign-samples.ts";

const PASSWORD = "correct horse battery staple";
const ask = (p: string) => async () => p;
const noPassword = async (): Promise<string> => {
  throw new Error("no password should be asked for");
};

/**
 * An encrypted cosign key built here independently of src/: go-securesystemslib's document
 * (scrypt, NaCl secretbox) around PKCS#8 DER.
 */
function cosignKeyByHand(
  pkcs8: Buffer,
  password: string,
  type = "ENCRYPTED COSIGN PRIVATE KEY",
  params = { N: 32768, r: 8, p: 1 },
): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = scryptSync(password, salt, 32, { ...params, maxmem: 256 << 20 });
  const ciphertext = nacl.secretbox(pkcs8, nonce, key);
  const doc = {
    kdf: { name: "scrypt", params, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(ciphertext).toString("base64"),
  };
  return pem(type, Buffer.from(JSON.stringify(doc)));
}

function p256() {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

describe("cosign encrypted private keys", () => {
  test("a key encrypted by hand (ENCRYPTED COSIGN PRIVATE KEY, legacy scrypt N) decrypts with its password", async () => {
    const { privateKey, publicKey } = p256();
    const der = privateKey.export({ type: "pkcs8", format: "der" });
    const text = cosignKeyByHand(der, PASSWORD);
    const key = await parsePrivateKey(text, "k.key", ask(PASSWORD));
    assert.equal(keyHint(key), keyHint(publicKey));
  });

  test("encrypt → decrypt round trip; the standard parameters and the Sigstore PEM type", async () => {
    const pair = generateCosignKeyPair(PASSWORD);
    const blocks = pemBlocks(pair.privatePem);
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0].type, "ENCRYPTED SIGSTORE PRIVATE KEY");
    const doc = JSON.parse(blocks[0].body.toString());
    assert.deepEqual(Object.keys(doc), ["kdf", "cipher", "ciphertext"]);
    assert.deepEqual(doc.kdf.params, { N: 65536, r: 8, p: 1 });
    assert.equal(doc.cipher.name, "nacl/secretbox");
    assert.equal(Buffer.from(doc.kdf.salt, "base64").length, 32);
    assert.equal(Buffer.from(doc.cipher.nonce, "base64").length, 24);
    const key = await parsePrivateKey(pair.privatePem, "cosign.key", ask(PASSWORD));
    assert.equal(keyHint(key), pair.hint);
    assert.equal(keyHint(parsePublicKey(pair.publicPem, "cosign.pub")), pair.hint);
    // the PEM lines are 64 characters, as Go's encoding/pem writes them
    for (const line of pair.privatePem.split("\n").slice(1, -3)) assert.equal(line.length, 64);
  });

  test("the wrong password: E_PASSWORD, and the message holds neither password", async () => {
    const pair = generateCosignKeyPair(PASSWORD);
    await assert.rejects(
      parsePrivateKey(pair.privatePem, "cosign.key", ask("hunter2")),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_PASSWORD");
        assert.match(e.message, /cannot decrypt cosign\.key: wrong password/);
        assert.doesNotMatch(e.message, /hunter2|horse/);
        return true;
      },
    );
  });

  test("an empty password is a password (COSIGN_PASSWORD=)", async () => {
    const pair = generateCosignKeyPair("");
    await parsePrivateKey(pair.privatePem, "cosign.key", ask(""));
  });

  test("rejections: unsupported scrypt parameters, another cipher, a body that is not JSON, a short nonce", () => {
    const der = p256().privateKey.export({ type: "pkcs8", format: "der" });
    const body = (t: string) => pemBlocks(t)[0].body;
    const weak = cosignKeyByHand(der, PASSWORD, "ENCRYPTED SIGSTORE PRIVATE KEY", { N: 1024, r: 8, p: 1 });
    assert.throws(() => decryptCosignKey(body(weak), PASSWORD, "k"), /unsupported scrypt parameters N=1024/);
    const doc = JSON.parse(body(cosignKeyByHand(der, PASSWORD)).toString());
    const aes = { ...doc, cipher: { ...doc.cipher, name: "aes-gcm" } };
    assert.throws(
      () => decryptCosignKey(Buffer.from(JSON.stringify(aes)), PASSWORD, "k"),
      /unsupported cipher "aes-gcm"/,
    );
    assert.throws(() => decryptCosignKey(Buffer.from("not json"), PASSWORD, "k"), /not cosign's format/);
    const short = { ...doc, cipher: { ...doc.cipher, nonce: "AAAA" } };
    assert.throws(
      () => decryptCosignKey(Buffer.from(JSON.stringify(short)), PASSWORD, "k"),
      /nonce has 3 bytes/,
    );
  });

  test("a damaged ciphertext does not decrypt (the secretbox tag fails)", () => {
    const text = encryptCosignKey(p256().privateKey.export({ type: "pkcs8", format: "der" }), PASSWORD);
    const doc = JSON.parse(text.toString());
    const ct = Buffer.from(doc.ciphertext, "base64");
    ct[ct.length - 1] ^= 1;
    const bad = Buffer.from(JSON.stringify({ ...doc, ciphertext: ct.toString("base64") }));
    assert.throws(() => decryptCosignKey(bad, PASSWORD, "k"), /wrong password/);
  });
});

describe("plain PEM keys", () => {
  test("PKCS#8 and SEC1 private keys need no password; SPKI public keys", async () => {
    const { privateKey, publicKey } = p256();
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const sec1 = privateKey.export({ type: "sec1", format: "pem" }) as string;
    for (const t of [pkcs8, sec1])
      assert.equal(keyHint(await parsePrivateKey(t, "k.pem", noPassword)), keyHint(publicKey));
    const spki = publicKey.export({ type: "spki", format: "pem" }) as string;
    assert.equal(keyHint(parsePublicKey(spki, "k.pub")), keyHint(publicKey));
  });

  test("a password-protected PKCS#8 key (ENCRYPTED PRIVATE KEY) uses the password", async () => {
    const { privateKey, publicKey } = p256();
    const enc = privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: PASSWORD,
    }) as string;
    assert.equal(keyHint(await parsePrivateKey(enc, "k.pem", ask(PASSWORD))), keyHint(publicKey));
    await assert.rejects(parsePrivateKey(enc, "k.pem", ask("nope")), /wrong password/);
  });

  test("cosign's public key: its hint is base64 SHA-256 of the SPKI", () => {
    const k = parsePublicKey(COSIGN_PUB, "cosign.pub");
    assert.equal(keyHint(k), "CX5+Uw4z6UYdThLajaSDoa8vo8skAJEwlt0n3YXUgrM=");
    assert.deepEqual(
      k.export({ type: "spki", format: "der" }),
      createPublicKey(COSIGN_PUB).export({ type: "spki", format: "der" }),
    );
  });

  test("rejections name what the file holds: RSA and P-384 keys, a private key as public, a public key as private, no PEM", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaPem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    await assert.rejects(
      parsePrivateKey(rsaPem, "rsa.key", noPassword),
      /rsa\.key is an RSA key; shellfree signs and verifies with ECDSA P-256 keys/,
    );
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
    assert.throws(
      () => parsePublicKey(p384.publicKey.export({ type: "spki", format: "pem" }) as string, "p384.pub"),
      /p384\.pub is an ECDSA secp384r1 key/,
    );
    const { privateKey, publicKey } = p256();
    const priv = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    assert.throws(() => parsePublicKey(priv, "x.pub"), /x\.pub holds a PRIVATE KEY, not a public key/);
    const pub = publicKey.export({ type: "spki", format: "pem" }) as string;
    await assert.rejects(
      parsePrivateKey(pub, "x.key", noPassword),
      /x\.key holds a PUBLIC KEY, not a private key/,
    );
    assert.throws(() => parsePublicKey("hello", "x.pub"), /x\.pub is not a PEM public key/);
  });
});

describe("key files and passwords", () => {
  test("COSIGN_PASSWORD is the password (empty too); without it and without a terminal: E_PASSWORD", async () => {
    assert.equal(await readPassword({ what: "k", env: { COSIGN_PASSWORD: "pw" } }), "pw");
    assert.equal(await readPassword({ what: "k", env: { COSIGN_PASSWORD: "" } }), "");
    // node --test runs files with stdin not a terminal
    await assert.rejects(readPassword({ what: "cosign.key", env: {} }), (e: Error & { code?: string }) => {
      assert.equal(e.code, "E_PASSWORD");
      assert.match(e.message, /cosign\.key needs a password and there is no terminal/);
      return true;
    });
  });

  test("generateKeyPair writes PREFIX.key (0600) and PREFIX.pub, refuses to replace them, and they load", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shellfree-keys-"));
    try {
      const prefix = join(dir, "cosign");
      const r = await generateKeyPair(prefix, { env: { COSIGN_PASSWORD: PASSWORD } });
      assert.equal((await stat(r.privateKey)).mode & 0o777, 0o600);
      assert.match(await readFile(r.privateKey, "utf8"), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
      assert.match(await readFile(r.publicKey, "utf8"), /^-----BEGIN PUBLIC KEY-----\n/);
      await assert.rejects(
        generateKeyPair(prefix, { env: { COSIGN_PASSWORD: PASSWORD } }),
        /cosign\.key exists already/,
      );
      const signer = await loadSigner(r.privateKey, { COSIGN_PASSWORD: PASSWORD });
      const verifier = await loadVerifier(r.publicKey);
      assert.equal(signer.hint, verifier.hint);
      assert.equal(signer.hint, r.hint);
      await assert.rejects(loadSigner(r.privateKey, { COSIGN_PASSWORD: "wrong" }), /wrong password/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("an unreadable key file: E_KEY naming the file", async () => {
    await assert.rejects(
      loadVerifier("/nonexistent/cosign.pub"),
      /cannot read the key \/nonexistent\/cosign\.pub \(ENOENT\)/,
    );
    const dir = await mkdtemp(join(tmpdir(), "shellfree-keys-"));
    try {
      await writeFile(join(dir, "x.pub"), "garbage");
      await assert.rejects(loadVerifier(join(dir, "x.pub")), /is not a PEM public key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
