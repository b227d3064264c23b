/**
 * unused-interpreter: a general-purpose interpreter (python, perl, node, ruby, php, lua, tclsh,
 * awk, java…) that nothing the image runs uses. Such a program works like a shell for an
 * attacker who gets to run a command (`python3 -c`, `perl -e`, `node -e`): it is worth keeping
 * only when the service needs it.
 *
 * "Used" means named (directly, through symlinks, or as a script's #! interpreter) by an
 * argument of the Entrypoint + Cmd, of the HEALTHCHECK, or of shellfree-init's configuration
 * (/etc/shellfree/init.json: the main process, validate and run tasks, exec checks) — so
 * `["/usr/bin/shellfree-init"]` with `init.main: ["/usr/bin/python3", "-m", "app"]` uses the
 * interpreter /usr/bin/python3 resolves to. Interpreters are found by file name (ELF files
 * only: a wrapper script named python is not one) and by content for renamed copies (an
 * executable whose strings say python, perl or php: signatures.ts). Copies with the same bytes
 * or hard links are one interpreter, reported once.
 */
import { basenameOf, type FsNode, type ImageFs } from "../image-fs.ts";
import { findExecutable, nodeText } from "./lookup.ts";
import type { ImageConfigJson, RawFinding, Rule } from "./types.ts";

/** Interpreter file names: family → pattern (no compilers such as luac: they cannot run a program). */
const NAMES: Array<[string, RegExp]> = [
  ["python", /^(python|pypy)(\d+(\.\d+)*)?(-dbg)?$/],
  ["perl", /^perl(\d+(\.\d+)*)?$/],
  ["node", /^(node|nodejs|deno|bun)$/],
  ["ruby", /^ruby(\d+(\.\d+)*)?$/],
  ["php", /^php(\d+(\.\d+)*)?(-cgi)?$/],
  ["lua", /^(lua|luajit)(\d+(\.\d+)*)?$/],
  ["tcl", /^(tclsh|wish)(\d+(\.\d+)*)?$/],
  ["awk", /^(awk|gawk|mawk|nawk|original-awk)$/],
  ["java", /^(java|jshell|jrunscript)$/],
  ["guile", /^guile(\d+(\.\d+)*)?$/],
];

export function interpreterFamily(n: FsNode): string | undefined {
  if (n.type !== "file" || !n.content?.elf) return undefined;
  const base = basenameOf(n.path);
  for (const [family, re] of NAMES) if (re.test(base)) return family;
  return n.content.interpreterSignature;
}

/** Every argv the image's configuration and shellfree-init's configuration may run. */
function commands(fs: ImageFs, config: ImageConfigJson): string[][] {
  const c = config.config ?? {};
  const out: string[][] = [[...(c.Entrypoint ?? []), ...(c.Cmd ?? [])]];
  const hc = c.Healthcheck?.Test;
  if (hc?.length && hc[0] !== "NONE") out.push(hc[0] === "CMD" || hc[0] === "CMD-SHELL" ? hc.slice(1) : hc);
  const init = nodeText(fs, "/etc/shellfree/init.json");
  if (init) {
    try {
      collectArgvs(JSON.parse(init), out);
    } catch {
      // not JSON: the init refuses to start; other rules say nothing about it either
    }
  }
  return out.filter((a) => a.length > 0);
}

/** Arrays of strings under the keys that hold commands (main, validate, run, exec), anywhere. */
function collectArgvs(v: unknown, out: string[][]): void {
  if (Array.isArray(v)) {
    for (const x of v) collectArgvs(x, out);
    return;
  }
  if (!v || typeof v !== "object") return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (
      ["main", "validate", "run", "exec"].includes(k) &&
      Array.isArray(x) &&
      x.every((s) => typeof s === "string")
    ) {
      out.push(x as string[]);
    } else collectArgvs(x, out);
  }
}

/** The files a command runs: every argument that names an executable file, and #! interpreters. */
function usedFiles(fs: ImageFs, config: ImageConfigJson): Set<string> {
  const used = new Set<string>();
  const visit = (name: string, depth: number) => {
    if (depth > 4 || !name) return;
    const r = findExecutable(fs, config, name);
    if (!r.ok || used.has(r.path)) return;
    used.add(r.path);
    const sb = r.node.content?.shebang;
    if (sb) {
      visit(sb.interpreter, depth + 1);
      // #!/usr/bin/env python3
      if (basenameOf(sb.interpreter) === "env" && sb.arg) {
        const prog = sb.arg.split(/\s+/).find((a) => a && !a.startsWith("-"));
        if (prog) visit(prog, depth + 1);
      }
    }
  };
  for (const argv of commands(fs, config)) {
    // the program, and any argument that may name one (tini -- node app.js; python3 /app/main.py)
    for (const arg of argv) if (arg === argv[0] || /^[\w./+-]+$/.test(arg)) visit(arg, 0);
  }
  return used;
}

export const rule: Rule = {
  id: "unused-interpreter",
  title: "No unused interpreter",
  description:
    "General-purpose interpreters (python, perl, node, ruby, php, lua, tclsh, awk, java…) are in the image only when the entrypoint, cmd, healthcheck or shellfree-init's commands use them: an unused one runs an attacker's code as a shell would.",
  defaultSeverity: "warning",
  hint: "leave the package out (packages.exclude) or its files (packages.drop-paths); if something runs it at run time, allow the path in the verify policy",
  check({ fs, config }) {
    const used = usedFiles(fs, config);
    const usedIds = new Set<string>();
    for (const p of used) {
      const n = fs.get(p);
      if (n?.content?.sha256) usedIds.add(n.content.sha256);
      if (n?.hardlinkOf) usedIds.add(`link:${n.hardlinkOf}`);
      usedIds.add(`link:${p}`);
    }
    const c = config.config ?? {};
    const baseImage = !(c.Entrypoint?.length || c.Cmd?.length);
    // one finding per interpreter program (same bytes or hard links are one)
    const groups = new Map<string, { family: string; paths: string[] }>();
    for (const n of fs.files()) {
      const family = interpreterFamily(n);
      if (!family) continue;
      const id = n.content?.sha256 ?? `link:${n.hardlinkOf ?? n.path}`;
      const linkId = `link:${n.hardlinkOf ?? n.path}`;
      if (used.has(n.path) || usedIds.has(id) || usedIds.has(linkId)) {
        usedIds.add(id);
        continue;
      }
      const g = groups.get(id) ?? { family, paths: [] };
      g.paths.push(n.path);
      groups.set(id, g);
    }
    const out: RawFinding[] = [];
    for (const [id, g] of groups) {
      if (usedIds.has(id)) continue;
      const [first, ...rest] = g.paths.sort();
      out.push({
        path: first,
        ...(baseImage ? { severity: "info" as const } : {}),
        message: `interpreter ${first} (${g.family})${rest.length ? `, also ${rest.join(", ")},` : ""} is in the image but ${
          baseImage
            ? "this is a base image (no Entrypoint or Cmd): images built on it should use it or leave it out"
            : "the entrypoint, cmd, healthcheck and shellfree-init never run it"
        }`,
      });
    }
    return out.sort((a, b) => ((a.path ?? "") < (b.path ?? "") ? -1 : 1));
  },
};
