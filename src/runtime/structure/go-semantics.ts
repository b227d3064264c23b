/**
 * Two pieces of Go's standard library that container-structure-test files depend on, ported
 * exactly: `os.Expand` (how `$VAR`/`${VAR}` in commands, paths and env values are substituted)
 * and `fs.FileMode.String()` of a tar header (the form `permissions:` is compared in:
 * `drwxr-xr-x`, `Lrwxrwxrwx`, `dtrwxrwxrwx` for a sticky directory, `urwxr-xr-x` for setuid,
 * `Dcrw-rw-rw-` for a character device).
 */

function isShellSpecial(c: string): boolean {
  return "*#$@!?-0123456789".includes(c);
}

function isAlphaNum(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c);
}

/** Go's getShellName: the name after a `$` and how many bytes it used. */
function shellName(s: string): [string, number] {
  if (s[0] === "{") {
    if (s.length > 2 && isShellSpecial(s[1]) && s[2] === "}") return [s.slice(1, 2), 3];
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "}") {
        if (i === 1) return ["", 2]; // "${}": bad syntax, eaten
        return [s.slice(1, i), i + 1];
      }
    }
    return ["", 1]; // "${" without "}": bad syntax, eaten
  }
  if (isShellSpecial(s[0])) return [s[0], 1];
  let i = 0;
  while (i < s.length && isAlphaNum(s[i])) i++;
  return [s.slice(0, i), i];
}

/**
 * Go's os.Expand: `$NAME`, `${NAME}` and the one-character specials (`$1`, `$$`, `$@`…) are
 * replaced by `lookup(name)` (unset: empty); a `$` not followed by a name stays; `${}` and an
 * unclosed `${` are dropped. `${NAME:-x}` is the variable named "NAME:-x" (no shell defaults).
 */
export function goExpand(s: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  let i = 0;
  let changed = false;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === "$" && j + 1 < s.length) {
      changed = true;
      out += s.slice(i, j);
      const [name, w] = shellName(s.slice(j + 1));
      if (name === "" && w > 0) {
        // invalid syntax: eaten
      } else if (name === "") out += "$";
      else out += lookup(name) ?? "";
      j += w;
      i = j + 1;
    }
  }
  return changed ? out + s.slice(i) : s;
}

const S_IFMT = 0o170000;

/**
 * `fs.FileMode.String()` of what Go's archive/tar reports for a file of this st_mode: type
 * letters (d directory, L symlink, D device, p pipe, S socket), then u/g for setuid/setgid,
 * c for a character device, t for sticky, or "-" when none; then nine rwx characters.
 */
export function goFileMode(mode: number): string {
  const type = mode & S_IFMT;
  let letters = "";
  if (type === 0o040000) letters += "d";
  if (type === 0o120000) letters += "L";
  if (type === 0o060000 || type === 0o020000) letters += "D";
  if (type === 0o010000) letters += "p";
  if (type === 0o140000) letters += "S";
  if (mode & 0o4000) letters += "u";
  if (mode & 0o2000) letters += "g";
  if (type === 0o020000) letters += "c";
  if (mode & 0o1000) letters += "t";
  let s = letters || "-";
  const rwx = "rwxrwxrwx";
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? rwx[i] : "-";
  return s;
}

/** A string goFileMode can return (the type letters in Go's order, then nine of r/w/x/-). */
const GO_MODE = /^(?:-|(?=[dLDpSugct])d?L?D?p?S?u?g?c?t?)[r-][w-][x-][r-][w-][x-][r-][w-][x-]$/;

/** An `ls -l` mode string (`drwxrwxrwt`, `-rwsr-xr-x`, `lrwxrwxrwx`, `crw-rw-rw-`). */
const LS_MODE = /^([-dlcbps])([r-][w-])([-xsS])([r-][w-])([-xsS])([r-][w-])([-xtT])$/;

/** The Go form of an `ls -l` mode string, or undefined if `s` is not one. */
export function lsToGoFileMode(s: string): string | undefined {
  const m = LS_MODE.exec(s);
  if (!m) return undefined;
  const typeBits: Record<string, number> = {
    "-": 0o100000,
    d: 0o040000,
    l: 0o120000,
    c: 0o020000,
    b: 0o060000,
    p: 0o010000,
    s: 0o140000,
  };
  let mode = typeBits[m[1]];
  const bits = (pair: string, x: string, shift: number, special: number, specialChars: string) => {
    if (pair[0] === "r") mode |= 4 << shift;
    if (pair[1] === "w") mode |= 2 << shift;
    if (x === "x" || x === specialChars[0]) mode |= 1 << shift;
    if (specialChars.includes(x)) mode |= special;
  };
  bits(m[2], m[3], 6, 0o4000, "sS");
  bits(m[4], m[5], 3, 0o2000, "sS");
  bits(m[6], m[7], 0, 0o1000, "tT");
  return goFileMode(mode);
}

/** Is `s` a permission string container-structure-test can ever match? */
export function isGoFileMode(s: string): boolean {
  return GO_MODE.test(s);
}
