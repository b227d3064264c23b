/**
 * What an ELF file's bytes say it is: a shell (by its grammar's and builtins' own strings) or
 * a general-purpose interpreter (by the environment variables only it reads).
 *
 * A needle is matched as a whole C string — NUL before and after it, so `endsw` is not found in
 * CPython's `endswith` — in one-byte form or as a NUL-bounded UTF-32 string (little- or
 * big-endian: yash and fish before 4.0 keep their strings as wchar_t). A needle written `~NAME`
 * is matched anywhere, one-byte or UTF-32 (fish 4 is Rust: its strings carry no terminator);
 * only long names that nothing else uses are written that way. A signature matches when all
 * of `all` and at least `some.n` of `some.of` are found.
 *
 * The needles were chosen on Debian's real binaries (bookworm and trixie, amd64 and arm64):
 * bash, bash-static, dash, busybox, busybox-static, zsh, zsh-static, mksh, lksh, ksh93, posh,
 * yash, tcsh, bsd-csh, fish and toybox are found; python3.11, python3.13, perl, node, ruby and
 * libruby, php, lua, tclsh and libtcl, gawk and mawk are not (test/e2e/verify/signatures.test.ts
 * fetches them and checks). Strings that short are not used on their own: amd64 builds inline
 * or tail-merge many of them (dash has no "\0IFS\0"), and language runtimes name keywords too
 * (libruby has "esac" and "elif", CPython "elif", Tcl "readonly").
 */

export interface Signature {
  name: string;
  all: string[];
  some?: { n: number; of: string[] };
}

/** Shells, most specific first. */
export const SHELL_SIGNATURES: Signature[] = [
  { name: "busybox", all: ["~BusyBox v"] },
  { name: "toybox", all: ["~Toybox ", "~toybox --help"] },
  { name: "bash", all: ["BASH_VERSION", "BASH_VERSINFO", "OPTIND", "esac"] },
  { name: "zsh", all: ["ZSH_VERSION", "ZSH_NAME", "OPTIND", "esac"] },
  { name: "ksh", all: ["KSH_VERSION", "OPTIND", "esac"] },
  { name: "yash", all: ["YASH_VERSION", "OPTIND", "esac"] },
  {
    name: "fish",
    all: [
      "~fish_function_path",
      "~fish_killring",
      "~fish_history",
      "~fish_pid",
      "~fish_trace",
      "~fish_prompt",
    ],
  },
  // csh's own keywords (bsd-csh and tcsh)
  { name: "csh", all: ["endsw", "breaksw", "onintr", "hashstat", "unalias"] },
  // every POSIX shell: the case keyword, getopts' variables, and two more of its own words
  {
    name: "posix-shell",
    all: ["esac", "OPTIND", "OPTARG"],
    some: { n: 2, of: ["getopts", "unalias", "PS4", "PPID", "IFS", "readonly", "ulimit"] },
  },
];

/**
 * General-purpose interpreters whose executable carries its own startup logic (Debian links
 * node, ruby, lua and tclsh against a library: their executables are found by name only).
 */
export const INTERPRETER_SIGNATURES: Signature[] = [
  // (CPython's arm64 builds do not keep these NUL-bounded)
  {
    name: "python",
    all: ["~PYTHONDONTWRITEBYTECODE", "~PYTHONSTARTUP", "~PYTHONINSPECT", "~PYTHONSAFEPATH"],
  },
  { name: "perl", all: ["PERL5LIB", "PERL5OPT"] },
  { name: "php", all: ["PHP_INI_SCAN_DIR", "PHPRC"] },
];

function utf32(s: string, big: boolean): Buffer {
  const b = Buffer.alloc(s.length * 4);
  for (let i = 0; i < s.length; i++) {
    if (big) b.writeUInt32BE(s.charCodeAt(i), i * 4);
    else b.writeUInt32LE(s.charCodeAt(i), i * 4);
  }
  return b;
}

/** The byte patterns a needle is found by. */
export function needleForms(needle: string): Buffer[] {
  if (needle.startsWith("~")) {
    const s = needle.slice(1);
    return [Buffer.from(s, "latin1"), utf32(s, false), utf32(s, true)];
  }
  const nul4 = Buffer.alloc(4);
  return [
    Buffer.from(`\0${needle}\0`, "latin1"),
    Buffer.concat([nul4, utf32(needle, false), nul4]),
    Buffer.concat([nul4, utf32(needle, true), nul4]),
  ];
}

const formsCache = new Map<string, Buffer[]>();

/** The exact test: is one of `needle`'s byte forms anywhere in `data`? */
function holds(data: Buffer, needle: string): boolean {
  return formsOf(needle).some((f) => data.includes(f));
}

/**
 * The needles of a set found in one file, computed in one pass over its bytes instead of three
 * searches per needle (same answers as `holds`):
 *  - one-byte NUL-bounded forms: every maximal run of non-NUL bytes that has a NUL on each side
 *    is compared with the needles of its length;
 *  - UTF-32 forms (both byte orders): a needle's characters stand alone between NULs, four
 *    bytes apart (each is one non-NUL byte with NULs around it) — all of a NUL-bounded
 *    needle's as one whole streak of such characters (four NULs before and after it), all but
 *    the first and last of a `~` needle's inside one. Only a needle that such a streak in the
 *    file spells is searched for in its UTF-32 forms, exactly;
 *  - one-byte forms of `~` needles (anywhere): searched for when asked, one search each.
 * A needle outside the set, or one the pass cannot decide (non-ASCII, too short), falls back
 * to the exact searches.
 */
export class NeedleScan {
  readonly data: Buffer;
  private readonly bounded = new Set<string>();
  /** needles whose UTF-32 forms may be in the data */
  private readonly wide = new Set<string>();
  private readonly plan: NeedlePlan;
  private readonly memo = new Map<string, boolean>();

  constructor(data: Buffer, plan: NeedlePlan) {
    this.data = data;
    this.plan = plan;
    const { byLen, minLen, maxLen, chars, isolated } = plan;
    const d = data;
    const n = d.length;
    // a streak: runs of one needle character each, four bytes apart (UTF-32 text)
    let streakStart = -1;
    let streakLen = 0;
    let i = 0;
    while (i < n) {
      while (i < n && d[i] === 0) i++;
      const seg = i;
      while (i < n && d[i] !== 0) i++;
      const len = i - seg;
      if (len === 0) break;
      if (len === 1 && chars[d[seg]] === 1) {
        if (streakLen > 0 && seg - streakStart === 4 * streakLen) streakLen++;
        else {
          if (streakLen >= isolated) this.streak(streakStart, streakLen);
          streakStart = seg;
          streakLen = 1;
        }
      } else if (streakLen > 0) {
        if (streakLen >= isolated) this.streak(streakStart, streakLen);
        streakLen = 0;
      }
      // NUL-bounded: a NUL before the run and one after it
      if (seg > 0 && i < n && len >= minLen && len <= maxLen) {
        const cands = byLen[len];
        if (cands !== undefined) {
          for (const c of cands) {
            if (d[seg] !== c.bytes[0]) continue;
            let k = 1;
            while (k < len && d[seg + k] === c.bytes[k]) k++;
            if (k === len) this.bounded.add(c.needle);
          }
        }
      }
    }
    if (streakLen >= isolated) this.streak(streakStart, streakLen);
  }

  /**
   * A streak of `len` characters from `start`: the needles whose UTF-32 forms it may be part
   * of (a bounded needle is a whole streak; a `~` needle's characters but its first and last
   * are inside one) become candidates for the exact UTF-32 searches.
   */
  private streak(start: number, len: number): void {
    let text = "";
    for (let k = 0; k < len; k++) text += String.fromCharCode(this.data[start + 4 * k]);
    for (const [needle, kind] of this.plan.kinds) {
      if (kind === "bounded" ? text === needle : text.includes(needle.slice(2, -1))) this.wide.add(needle);
    }
  }

  has(needle: string): boolean {
    let v = this.memo.get(needle);
    if (v !== undefined) return v;
    const kind = this.plan.kinds.get(needle);
    if (kind === undefined) v = holds(this.data, needle);
    else {
      const forms = formsOf(needle);
      v =
        (kind === "bounded" ? this.bounded.has(needle) : this.data.includes(forms[0])) ||
        (this.wide.has(needle) && (this.data.includes(forms[1]) || this.data.includes(forms[2])));
    }
    this.memo.set(needle, v);
    return v;
  }
}

function formsOf(needle: string): Buffer[] {
  let forms = formsCache.get(needle);
  if (!forms) {
    forms = needleForms(needle);
    formsCache.set(needle, forms);
  }
  return forms;
}

/** What `NeedleScan` looks for, made once for a set of signatures. */
export interface NeedlePlan {
  /** needle → how its one-byte form is found; needles not here fall back to the exact search */
  kinds: Map<string, "bounded" | "anywhere">;
  /** bounded needles by their length */
  byLen: Array<Array<{ needle: string; bytes: Buffer }> | undefined>;
  minLen: number;
  maxLen: number;
  /** 1 for each byte value that is a character of some needle */
  chars: Uint8Array;
  /** the fewest characters of any needle that stand alone in its UTF-32 forms */
  isolated: number;
}

export function needlePlan(signatures: Signature[]): NeedlePlan {
  const kinds = new Map<string, "bounded" | "anywhere">();
  const byLen: NeedlePlan["byLen"] = [];
  const chars = new Uint8Array(256);
  let minLen = Number.POSITIVE_INFINITY;
  let maxLen = 0;
  let isolated = Number.POSITIVE_INFINITY;
  for (const s of signatures) {
    for (const needle of [...s.all, ...(s.some?.of ?? [])]) {
      if (kinds.has(needle)) continue;
      const anywhere = needle.startsWith("~");
      const text = anywhere ? needle.slice(1) : needle;
      // one byte per character, none of them NUL; in a `~` needle the first and last
      // character may touch other bytes, so they do not count as standing alone
      if (!/^[\x01-\xff]+$/.test(text)) continue;
      const alone = anywhere ? text.length - 2 : text.length;
      if (alone < 3) continue;
      isolated = Math.min(isolated, alone);
      for (let i = anywhere ? 1 : 0; i < (anywhere ? text.length - 1 : text.length); i++)
        chars[text.charCodeAt(i)] = 1;
      kinds.set(needle, anywhere ? "anywhere" : "bounded");
      if (!anywhere) {
        const list = byLen[text.length] ?? [];
        list.push({ needle, bytes: Buffer.from(text, "latin1") });
        byLen[text.length] = list;
        minLen = Math.min(minLen, text.length);
        maxLen = Math.max(maxLen, text.length);
      }
    }
  }
  return { kinds, byLen, minLen, maxLen, chars, isolated: Number.isFinite(isolated) ? isolated : 0 };
}

const plans = new WeakMap<Signature[], NeedlePlan>();

/** A one-pass scan of `data` for the needles of these signatures. */
export function scanNeedles(data: Buffer, signatures: Signature[]): NeedleScan {
  let plan = plans.get(signatures);
  if (!plan) {
    plan = needlePlan(signatures);
    plans.set(signatures, plan);
  }
  return new NeedleScan(data, plan);
}

/** Every needle of both lists, scanned for in one pass (what verify does for each ELF file). */
export const ALL_SIGNATURES: Signature[] = [...SHELL_SIGNATURES, ...INTERPRETER_SIGNATURES];

/** The first signature `data` matches (a buffer, or a scan made with `scanNeedles`). */
export function matchSignature(data: Buffer | NeedleScan, signatures: Signature[]): string | undefined {
  const scan = data instanceof NeedleScan ? data : scanNeedles(data, signatures);
  for (const s of signatures) {
    if (!s.all.every((n) => scan.has(n))) continue;
    if (s.some && s.some.of.filter((n) => scan.has(n)).length < s.some.n) continue;
    return s.name;
  }
  return undefined;
}

/** The first signature `data` matches, by three plain searches per needle (the reference). */
export function matchSignatureSlow(data: Buffer, signatures: Signature[]): string | undefined {
  const memo = new Map<string, boolean>();
  const found = (n: string) => {
    let v = memo.get(n);
    if (v === undefined) {
      v = holds(data, n);
      memo.set(n, v);
    }
    return v;
  };
  for (const s of signatures) {
    if (!s.all.every(found)) continue;
    if (s.some && s.some.of.filter(found).length < s.some.n) continue;
    return s.name;
  }
  return undefined;
}
