/**
 * Release files: OpenPGP verification of `InRelease` (clear-signed) or `Release` + `Release.gpg`
 * (detached) against a keyring, `Valid-Until` enforcement, and the SHA256 file list every
 * index is checked against. Only the signed text is ever parsed.
 */
import { readFile } from "node:fs/promises";
import type * as openpgp from "openpgp";
import { parseDeb822 } from "./deb822.ts";
import { DebianError } from "./errors.ts";

export interface ReleaseFile {
  sha256: string;
  size: number;
}

export interface ReleaseInfo {
  origin?: string;
  label?: string;
  suite?: string;
  codename?: string;
  version?: string;
  date?: Date;
  validUntil?: Date;
  architectures: string[];
  components: string[];
  acquireByHash: boolean;
  /** "No-Support-for-Architecture-all: Packages": arch-all packages are in each binary-<arch> index */
  noArchAllPackages: boolean;
  /** SHA256 entries by path relative to dists/<suite>/ */
  sha256: Map<string, ReleaseFile>;
  /** every field of the Release paragraph (the hash lists included, as text) */
  fields: Record<string, string>;
  /** the verified Release text */
  text: string;
  /** fingerprints (hex) of the keys whose signatures verified */
  signedBy: string[];
}

/** Parse (already verified) Release text. */
export function parseRelease(text: string, where = "Release"): ReleaseInfo {
  const paras = parseDeb822(text, where);
  if (paras.length !== 1) {
    throw new DebianError("E_INDEX", `${where}: expected one paragraph, found ${paras.length}`);
  }
  const f = paras[0];
  const get = (k: string) => {
    for (const key of Object.keys(f)) if (key.toLowerCase() === k.toLowerCase()) return f[key];
    return undefined;
  };
  const date = (k: string) => {
    const v = get(k);
    if (v === undefined) return undefined;
    const d = parseReleaseDate(v);
    if (!d) throw new DebianError("E_INDEX", `${where}: invalid ${k} ${JSON.stringify(v)}`);
    return d;
  };
  const sha256 = new Map<string, ReleaseFile>();
  const list = get("SHA256");
  if (list !== undefined) {
    for (const line of list.split("\n")) {
      const t = line.trim();
      if (!t) continue;
      const parts = t.split(/\s+/);
      if (parts.length !== 3 || !/^[0-9a-f]{64}$/i.test(parts[0]) || !/^\d+$/.test(parts[1])) {
        throw new DebianError("E_INDEX", `${where}: malformed SHA256 line ${JSON.stringify(t)}`);
      }
      sha256.set(parts[2], { sha256: parts[0].toLowerCase(), size: Number(parts[1]) });
    }
  }
  const words = (k: string) => (get(k) ?? "").split(/\s+/).filter(Boolean);
  return {
    origin: get("Origin"),
    label: get("Label"),
    suite: get("Suite"),
    codename: get("Codename"),
    version: get("Version"),
    date: date("Date"),
    validUntil: date("Valid-Until"),
    architectures: words("Architectures"),
    components: words("Components"),
    acquireByHash: (get("Acquire-By-Hash") ?? "").toLowerCase() === "yes",
    noArchAllPackages: words("No-Support-for-Architecture-all").includes("Packages"),
    sha256,
    fields: f,
    text,
    signedBy: [],
  };
}

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** RFC 2822 dates as written in Release files: `Sat, 21 Nov 2026 09:15:44 UTC` (or +0000). */
export function parseReleaseDate(v: string): Date | undefined {
  const m =
    /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(UTC|GMT|Z|[+-]\d{4})?$/.exec(
      v.trim(),
    );
  if (!m) return undefined;
  const mon = MONTHS[m[2].toLowerCase()];
  if (mon === undefined) return undefined;
  let ms = Date.UTC(Number(m[3]), mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const tz = m[7];
  if (tz && /^[+-]\d{4}$/.test(tz)) {
    const sign = tz[0] === "-" ? -1 : 1;
    ms -= sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5))) * 60_000;
  }
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

const keyringCache = new Map<string, Promise<openpgp.PublicKey[]>>();

/** openpgp.js is loaded only when a signature really has to be checked (it is large). */
const pgp = () => import("openpgp");

/** A keyring file's bytes; E_KEYRING when it cannot be read. */
export async function readKeyringFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new DebianError(
      "E_KEYRING",
      `cannot read keyring ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      {
        hint: "install debian-archive-keyring or pass --keyring FILE",
      },
    );
  }
}

/** Read an OpenPGP keyring (binary `.gpg` or armored `.asc`); E_KEYRING when missing or empty. */
export function loadKeyring(path: string): Promise<openpgp.PublicKey[]> {
  let p = keyringCache.get(path);
  if (!p) {
    p = (async () => {
      const data = await readKeyringFile(path);
      let keys: openpgp.PublicKey[];
      const openpgp = await pgp();
      try {
        const armored = data.subarray(0, 64).toString("latin1").includes("-----BEGIN PGP");
        keys = armored
          ? await openpgp.readKeys({ armoredKeys: data.toString("utf8") })
          : await openpgp.readKeys({ binaryKeys: data });
      } catch (e) {
        throw new DebianError(
          "E_KEYRING",
          `keyring ${path} is not an OpenPGP keyring: ${(e as Error).message}`,
          {
            hint: "pass --keyring with a binary (.gpg) or armored (.asc) public keyring",
          },
        );
      }
      if (keys.length === 0) throw new DebianError("E_KEYRING", `keyring ${path} has no keys`);
      return keys;
    })();
    keyringCache.set(path, p);
    p.catch(() => keyringCache.delete(path));
  }
  return p;
}

async function checkSignatures(
  sigs: Awaited<ReturnType<typeof openpgp.verify>>["signatures"],
  keys: openpgp.PublicKey[],
  what: string,
  date: Date,
): Promise<string[]> {
  const good: string[] = [];
  const reasons: string[] = [];
  for (const s of sigs) {
    try {
      await s.verified;
      const key = keys.find((k) => k.getKeys(s.keyID).length > 0);
      if (key) good.push(key.getFingerprint());
    } catch (e) {
      reasons.push(`${s.keyID.toHex()}: ${(e as Error).message}`);
    }
  }
  void date;
  if (good.length === 0) {
    throw new DebianError(
      "E_SIGNATURE",
      `${what}: no valid signature from a key in the keyring${reasons.length ? ` (${reasons.join("; ")})` : ""}`,
      {
        hint: "the file was tampered with or signed by an unknown key; check --keyring and the mirror",
        exitCode: 3,
      },
    );
  }
  return [...new Set(good)];
}

/** Verify a clear-signed InRelease; returns the signed text and the fingerprints that verified. */
export async function verifyClearsigned(
  armored: string,
  keys: openpgp.PublicKey[],
  what: string,
  date = new Date(),
): Promise<{ text: string; signedBy: string[] }> {
  const openpgp = await pgp();
  let msg: openpgp.CleartextMessage;
  try {
    msg = await openpgp.readCleartextMessage({ cleartextMessage: armored });
  } catch (e) {
    throw new DebianError(
      "E_SIGNATURE",
      `${what}: not a valid clear-signed OpenPGP message: ${(e as Error).message}`,
      {
        exitCode: 3,
      },
    );
  }
  let res: Awaited<ReturnType<typeof openpgp.verify>>;
  try {
    res = await openpgp.verify({ message: msg, verificationKeys: keys, date });
  } catch (e) {
    throw new DebianError("E_SIGNATURE", `${what}: signature check failed: ${(e as Error).message}`, {
      exitCode: 3,
    });
  }
  const signedBy = await checkSignatures(res.signatures, keys, what, date);
  const text = res.data as string;
  return { text: text.endsWith("\n") ? text : `${text}\n`, signedBy };
}

/** Verify `Release` against a detached armored or binary `Release.gpg`. */
export async function verifyDetached(
  data: Uint8Array,
  signature: Uint8Array,
  keys: openpgp.PublicKey[],
  what: string,
  date = new Date(),
): Promise<string[]> {
  const openpgp = await pgp();
  let sig: openpgp.Signature;
  try {
    const head = Buffer.from(signature.subarray(0, 64)).toString("latin1");
    sig = head.includes("-----BEGIN PGP")
      ? await openpgp.readSignature({ armoredSignature: Buffer.from(signature).toString("utf8") })
      : await openpgp.readSignature({ binarySignature: signature });
  } catch (e) {
    throw new DebianError("E_SIGNATURE", `${what}: not a valid OpenPGP signature: ${(e as Error).message}`, {
      exitCode: 3,
    });
  }
  let res: Awaited<ReturnType<typeof openpgp.verify>>;
  try {
    const message = await openpgp.createMessage({ binary: data });
    res = await openpgp.verify({ message, signature: sig, verificationKeys: keys, date, format: "binary" });
  } catch (e) {
    throw new DebianError("E_SIGNATURE", `${what}: signature check failed: ${(e as Error).message}`, {
      exitCode: 3,
    });
  }
  return checkSignatures(res.signatures, keys, what, date);
}

/** Enforce Valid-Until unless `allowExpired`. */
export function checkValidUntil(info: ReleaseInfo, what: string, now: Date, allowExpired: boolean): void {
  if (!info.validUntil || allowExpired) return;
  if (info.validUntil.getTime() < now.getTime()) {
    throw new DebianError(
      "E_EXPIRED",
      `${what} expired: Valid-Until ${info.validUntil.toUTCString()} is in the past (now ${now.toUTCString()})`,
      { hint: "the mirror may be stale; pass --allow-expired to use it anyway", exitCode: 3 },
    );
  }
}
