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

function found(data: Buffer, needle: string, memo: Map<string, boolean>): boolean {
  let v = memo.get(needle);
  if (v === undefined) {
    let forms = formsCache.get(needle);
    if (!forms) {
      forms = needleForms(needle);
      formsCache.set(needle, forms);
    }
    v = forms.some((f) => data.includes(f));
    memo.set(needle, v);
  }
  return v;
}

/** The first signature `data` matches. */
export function matchSignature(data: Buffer, signatures: Signature[]): string | undefined {
  const memo = new Map<string, boolean>();
  for (const s of signatures) {
    if (!s.all.every((n) => found(data, n, memo))) continue;
    if (s.some && s.some.of.filter((n) => found(data, n, memo)).length < s.some.n) continue;
    return s.name;
  }
  return undefined;
}
