/**
 * What verify learns about a file while its bytes stream past, without keeping them: the ELF
 * ranges (elf.ts), a `#!` line, a sha256 and shell signature for small ELF files, secret
 * patterns in small text files, and the text of the few configuration files the rules read.
 */
import { createHash } from "node:crypto";
import { ElfCollector, type ElfInfo, isElf } from "./elf.ts";

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
  /^\/(?:etc\/os-release|usr\/lib\/os-release|etc\/passwd|etc\/group|etc\/ld\.so\.conf|etc\/ld\.so\.conf\.d\/[^/]+)$/;

/** Byte signatures of shells: each entry's strings must all occur in the file. */
export const SHELL_SIGNATURES: Array<{ name: string; all: string[] }> = [
  { name: "busybox", all: ["BusyBox v"] },
  { name: "toybox", all: ["toybox", "Toybox "] },
  { name: "bash", all: ["BASH_VERSION", "OPTIND"] },
  { name: "zsh", all: ["ZSH_VERSION", "OPTIND"] },
  { name: "ksh", all: ["KSH_VERSION", "OPTIND"] },
  { name: "fish", all: ["fish_greeting", "fish_user_paths"] },
  { name: "csh", all: ["setenv", "unsetenv", "foreach", "endsw"] },
  // every POSIX shell (dash, ash, sh, bash, ksh, mksh, zsh) names these variables
  { name: "posix-shell", all: ["OPTIND", "PPID", "PS4", "IFS"] },
];

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

/** Searches a stream of chunks for several byte strings (matches may span chunks). */
class MultiSearch {
  private found = new Set<string>();
  private tail = Buffer.alloc(0);
  private readonly needles: Buffer[];
  private readonly maxLen: number;
  constructor(needles: string[]) {
    this.needles = [...new Set(needles)].map((s) => Buffer.from(s, "latin1"));
    this.maxLen = Math.max(...this.needles.map((n) => n.length));
  }
  push(chunk: Buffer): void {
    // matches inside the chunk, then across the seam (tail of the previous chunk + head of
    // this one) — without copying whole chunks
    const seam = this.tail.length
      ? Buffer.concat([this.tail, chunk.subarray(0, this.maxLen - 1)])
      : undefined;
    for (const n of this.needles) {
      const k = n.toString("latin1");
      if (this.found.has(k)) continue;
      if (chunk.indexOf(n) >= 0 || (seam && seam.indexOf(n) >= 0)) this.found.add(k);
    }
    const keep = Math.min(chunk.length, this.maxLen - 1);
    this.tail = Buffer.concat([this.tail, chunk.subarray(chunk.length - keep)]).subarray(-(this.maxLen - 1));
  }
  has(s: string): boolean {
    return this.found.has(s);
  }
}

const ALL_SHELL_NEEDLES = SHELL_SIGNATURES.flatMap((s) => s.all);

/** Analyse one file's content from its chunks. */
export class ContentAnalyzer {
  private head = Buffer.alloc(0);
  private elf?: ElfCollector;
  private hash?: ReturnType<typeof createHash>;
  private search?: MultiSearch;
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
        this.search = new MultiSearch(ALL_SHELL_NEEDLES);
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
    this.search?.push(chunk);
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
      const s = this.search;
      if (s) {
        const sig = SHELL_SIGNATURES.find((g) => g.all.every((n) => s.has(n)));
        if (sig) info.shellSignature = sig.name;
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
