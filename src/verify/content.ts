/**
 * What verify learns about a file while its bytes stream past: the ELF ranges (elf.ts), a `#!`
 * line, for ELF files up to SHA_LIMIT a sha256 and what their strings say they are (a shell,
 * an interpreter: signatures.ts; those bytes are kept until the file ends), secret patterns in
 * small text files, and the text of the few configuration files the rules read.
 */
import { createHash } from "node:crypto";
import { ElfCollector, type ElfInfo, isElf } from "./elf.ts";
import {
  ALL_SIGNATURES,
  INTERPRETER_SIGNATURES,
  matchSignature,
  SHELL_SIGNATURES,
  scanNeedles,
} from "./signatures.ts";

export interface Shebang {
  interpreter: string;
  arg?: string;
}

export interface SecretHit {
  kind: string;
  line: number;
}

export interface ContentInfo {
  elf?: ElfInfo;
  shebang?: Shebang;
  /** which shell this file's content identifies it as (e.g. "posix-shell", "busybox") */
  shellSignature?: string;
  /** which general-purpose interpreter an executable's content identifies it as ("python", "perl", "php") */
  interpreterSignature?: string;
  /** sha256 hex of ELF files up to SHA_LIMIT bytes */
  sha256?: string;
  secrets?: SecretHit[];
  /** the text of small configuration files the rules read (os-release, passwd, ld.so.conf) */
  text?: string;
}

/** Limits of the content analysis. */
export const SHA_LIMIT = 16 * 1024 * 1024;
export const SECRET_SCAN_LIMIT = 1024 * 1024;
const HEAD = 4096;
/** Files whose text the rules need (kept when ≤ SECRET_SCAN_LIMIT). */
export const KEEP_TEXT =
  /^\/(?:etc\/os-release|usr\/lib\/os-release|etc\/passwd|etc\/group|etc\/ld\.so\.conf|etc\/ld\.so\.conf\.d\/[^/]+|etc\/shellfree\/init\.json)$/;

/** Secret patterns looked for in small non-ELF files. */
export const SECRET_PATTERNS: Array<{ kind: string; re: RegExp }> = [
  { kind: "private key (PEM)", re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { kind: "AWS access key id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: "AWS secret access key", re: /aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+=]{40}/i },
  { kind: "GCP service account key", re: /"type"\s*:\s*"service_account"[\s\S]*"private_key"/ },
  { kind: "GCP API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
];

export function parseShebang(head: Buffer): Shebang | undefined {
  if (head.length < 3 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  let end = head.indexOf(0x0a);
  if (end < 0) end = head.length;
  const line = head.toString("utf8", 2, end).replace(/\r$/, "").trim();
  if (line === "") return undefined;
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m) return undefined;
  return m[2] ? { interpreter: m[1], arg: m[2].trim() } : { interpreter: m[1] };
}

export function scanSecrets(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const { kind, re } of SECRET_PATTERNS) {
    const m = re.exec(text);
    if (m) {
      let line = 1;
      for (let i = 0; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
      hits.push({ kind, line });
    }
  }
  return hits;
}

/** sha256:size:executable → what the signatures found in those bytes */
const SIGNATURE_CACHE = new Map<string, { shell?: string; interpreter?: string }>();

/** Analyse one file's content from its chunks. */
export class ContentAnalyzer {
  private head = Buffer.alloc(0);
  private elf?: ElfCollector;
  private hash?: ReturnType<typeof createHash>;
  /** an ELF file's bytes, for its signatures (filled up to `elfFill`) */
  private elfBytes?: Buffer;
  private elfFill = 0;
  private small?: Buffer[];
  private decided = false;
  private readonly size: number;
  private readonly path: string;

  constructor(path: string, size: number) {
    this.size = size;
    this.path = path;
  }

  private decide(first: Buffer): void {
    this.decided = true;
    if (isElf(first)) {
      this.elf = new ElfCollector();
      if (this.size <= SHA_LIMIT) {
        this.hash = createHash("sha256");
        this.elfBytes = Buffer.allocUnsafe(this.size);
      }
    } else if (this.size <= SECRET_SCAN_LIMIT) {
      this.small = [];
    }
  }

  private pending: Buffer[] = [];

  push(chunk: Buffer): void {
    if (this.head.length < HEAD) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD - this.head.length)]);
    }
    if (!this.decided) {
      // the kind of file is decided on its first bytes, however the stream happens to be cut
      this.pending.push(chunk);
      if (this.head.length < 4 && this.head.length < this.size) return;
      this.decide(this.head);
      const p = this.pending;
      this.pending = [];
      for (const c of p) this.feed(c);
      return;
    }
    this.feed(chunk);
  }

  private feed(chunk: Buffer): void {
    this.elf?.push(chunk);
    this.hash?.update(chunk);
    if (this.elfBytes) {
      if (this.elfFill + chunk.length > this.elfBytes.length) {
        // more bytes than the size said (a tar reader never gives that): keep them all
        const grown = Buffer.allocUnsafe(Math.max(2 * this.elfBytes.length, this.elfFill + chunk.length));
        this.elfBytes.copy(grown, 0, 0, this.elfFill);
        this.elfBytes = grown;
      }
      chunk.copy(this.elfBytes, this.elfFill);
      this.elfFill += chunk.length;
    }
    this.small?.push(chunk);
  }

  finish(): ContentInfo {
    if (!this.decided) {
      this.decide(this.head);
      for (const c of this.pending) this.feed(c);
      this.pending = [];
    }
    const info: ContentInfo = {};
    if (this.elf) {
      info.elf = this.elf.finish();
      if (this.hash) info.sha256 = this.hash.digest("hex");
      if (this.elfBytes) {
        const data = this.elfBytes.subarray(0, this.elfFill);
        this.elfBytes = undefined;
        // an executable (a program interpreter, or static): libpython.so is no interpreter
        const exe = info.elf?.interp !== undefined || info.elf?.type === 2;
        // the same bytes say the same: copies of one file (same sha256) are scanned once
        const key = `${info.sha256}:${data.length}:${exe}`;
        let sig = SIGNATURE_CACHE.get(key);
        if (!sig) {
          const scan = scanNeedles(data, ALL_SIGNATURES);
          const shell = matchSignature(scan, SHELL_SIGNATURES);
          sig = {
            shell,
            interpreter: !shell && exe ? matchSignature(scan, INTERPRETER_SIGNATURES) : undefined,
          };
          if (SIGNATURE_CACHE.size >= 4096) SIGNATURE_CACHE.clear();
          SIGNATURE_CACHE.set(key, sig);
        }
        const { shell, interpreter } = sig;
        if (shell) info.shellSignature = shell;
        if (interpreter) info.interpreterSignature = interpreter;
      }
    } else {
      const sb = parseShebang(this.head);
      if (sb) info.shebang = sb;
      if (this.small) {
        const text = Buffer.concat(this.small).toString("latin1");
        const hits = scanSecrets(text);
        if (hits.length) info.secrets = hits;
        if (KEEP_TEXT.test(this.path)) info.text = Buffer.from(text, "latin1").toString("utf8");
      }
    }
    return info;
  }
}
