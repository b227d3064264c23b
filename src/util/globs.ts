/** Path globs on absolute image paths (verify's allowed paths, the spec's drop-paths): `**` any depth, `*` within a segment, `?` one char. */

/** A glob as a RegExp on absolute image paths ("dir/" means everything below dir). */
export function globToRegExp(glob: string): RegExp {
  let pattern = glob.startsWith("/") ? glob : `/${glob}`;
  if (pattern.endsWith("/")) pattern += "**";
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function matchAny(path: string, globs: RegExp[]): boolean {
  return globs.some((g) => g.test(path));
}
