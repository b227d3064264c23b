/**
 * no-shell: no shell in the image — by name (files, symlinks, hard links) and by identity
 * (ELF content that carries a shell's signature strings, or the same bytes / build-id as a
 * file found by name), so a renamed copy or a hard link under another name is found too.
 */
import { basenameOf, type FsNode } from "../image-fs.ts";
import { SHELL_NAMES } from "./lookup.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "no-shell",
  title: "No shell",
  description:
    "The image contains no shell (sh, bash, dash, ash, zsh, ksh, mksh, posh, yash, busybox, toybox, fish, csh, tcsh, sash, rc), by path or by ELF identity (its own strings, matched whole: signatures.ts).",
  defaultSeverity: "error",
  hint: "remove the package that ships it (e.g. exclude dash/bash/busybox) or the file; use exec-form commands instead of a shell",
  check({ fs }) {
    const out: RawFinding[] = [];
    const flagged = new Map<string, string>();
    const shaOf = new Map<string, string>();
    const idOf = new Map<string, string>();
    const add = (n: FsNode, why: string) => {
      if (flagged.has(n.path)) return;
      flagged.set(n.path, why);
      out.push({ path: n.path, message: `shell ${n.path}: ${why}` });
    };
    for (const n of fs.nodes.values()) {
      if (n.type !== "file" && n.type !== "symlink") continue;
      const base = basenameOf(n.path);
      if (SHELL_NAMES.has(base)) {
        if (n.type === "symlink") {
          const r = fs.resolve(n.path);
          // a dangling symlink named "sh" is no shell, but say so at info level elsewhere
          if ("missing" in r) continue;
          add(n, `symlink named "${base}" → ${n.linkname}`);
        } else add(n, `named "${base}"`);
      }
      const sig = n.content?.shellSignature;
      if (n.type === "file" && sig) {
        const what = sig === "posix-shell" ? "a POSIX shell" : sig;
        add(
          n,
          n.hardlinkOf
            ? `hard link to ${n.hardlinkOf}, whose content is ${what}`
            : `ELF content identifies it as ${what}`,
        );
      }
    }
    // renamed copies: same bytes or same GNU build-id as something flagged
    for (const p of flagged.keys()) {
      const n = fs.get(p);
      const r = n?.type === "symlink" ? fs.resolve(p) : undefined;
      const target = r && !("missing" in r) ? r.node : n;
      if (target?.content?.sha256) shaOf.set(target.content.sha256, target.path);
      if (target?.content?.elf?.buildId) idOf.set(target.content.elf.buildId, target.path);
    }
    for (const n of fs.files()) {
      if (flagged.has(n.path)) continue;
      const c = n.content;
      if (!c) continue;
      if (n.hardlinkOf && flagged.has(n.hardlinkOf)) add(n, `hard link to shell ${n.hardlinkOf}`);
      else if (c.sha256 && shaOf.has(c.sha256) && shaOf.get(c.sha256) !== n.path)
        add(n, `same content as shell ${shaOf.get(c.sha256)}`);
      else if (c.elf?.buildId && idOf.has(c.elf.buildId) && idOf.get(c.elf.buildId) !== n.path)
        add(n, `same build-id as shell ${idOf.get(c.elf.buildId)}`);
    }
    return out;
  },
};
