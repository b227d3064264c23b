/**
 * update-alternatives, declaratively. Debian packages register alternatives from `postinst`
 * (`update-alternatives --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...`); since
 * shellfree never runs maintainer scripts, it reads those calls and creates what dpkg would:
 * LINK → /etc/alternatives/NAME → PATH for the highest priority candidate present in the image
 * (or the one the spec chooses), plus dpkg's admin file /var/lib/dpkg/alternatives/NAME.
 */
import { BuildError } from "./errors.ts";

export interface AltSlave {
  link: string;
  name: string;
  path: string;
}
export interface AltInstall {
  link: string;
  name: string;
  path: string;
  priority: number;
  slaves: AltSlave[];
  /** package whose postinst declared it */
  package?: string;
}

function tokens(cmd: string): string[] {
  return (cmd.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((t) => t.replace(/^["']|["']$/g, ""));
}

/**
 * Every literal `update-alternatives --install` call in a maintainer script. Its result is
 * cached in DebInfo: a change to it needs DEBINFO_FORMAT (debinfo.ts) bumped.
 */
export function parseAlternatives(script: string): AltInstall[] {
  const joined = script.replace(/\\\r?\n/g, " ");
  const out: AltInstall[] = [];
  for (const line of joined.split(/\r?\n|;|&&|\|\|/)) {
    const t = tokens(line.replace(/#.*$/, ""));
    const at = t.findIndex((x) => x === "update-alternatives" || x.endsWith("/update-alternatives"));
    if (at < 0) continue;
    const rest = t.slice(at + 1);
    const i = rest.indexOf("--install");
    if (i < 0) continue;
    const [link, name, path, prio] = rest.slice(i + 1, i + 5);
    if (!link || !name || !path || !prio || !/^-?\d+$/.test(prio)) continue;
    if ([link, name, path].some((s) => s.includes("$") || s.includes("`"))) continue;
    const slaves: AltSlave[] = [];
    for (let j = i + 5; j < rest.length; j++) {
      if (rest[j] === "--slave" && j + 3 < rest.length + 0) {
        const [sl, sn, sp] = rest.slice(j + 1, j + 4);
        if (sl && sn && sp && ![sl, sn, sp].some((s) => s.includes("$")))
          slaves.push({ link: sl, name: sn, path: sp });
        j += 3;
      }
    }
    out.push({ link, name, path, priority: Number(prio), slaves });
  }
  return out;
}

export interface AltChoice {
  name: string;
  link: string;
  /** the chosen candidate */
  path: string;
  priority: number;
  /** "auto" (highest priority) or "manual" (chosen by the spec) */
  mode: "auto" | "manual";
  candidates: Array<{ path: string; priority: number; package?: string }>;
  slaves: Array<{ name: string; link: string; path?: string }>;
}

export interface AltResult {
  choices: AltChoice[];
  /** symlinks to create: absolute path → target */
  symlinks: Array<{ path: string; target: string }>;
  /** dpkg admin files: /var/lib/dpkg/alternatives/NAME → content */
  adminFiles: Array<{ name: string; content: string }>;
}

/**
 * Decide every alternative. `exists(path)` says whether a candidate is in the image (candidates
 * whose file was not installed are ignored, as update-alternatives would not offer them).
 */
export function applyAlternatives(
  installs: AltInstall[],
  chosen: Record<string, string>,
  exists: (absPath: string) => boolean,
): AltResult {
  const byName = new Map<string, AltInstall[]>();
  for (const a of installs) {
    const list = byName.get(a.name) ?? [];
    const same = list.findIndex((x) => x.path === a.path);
    if (same >= 0) list[same] = a;
    else list.push(a);
    byName.set(a.name, list);
  }
  for (const name of Object.keys(chosen)) {
    if (!byName.has(name)) {
      const known = [...byName.keys()].sort();
      throw new BuildError(
        "E_ALTERNATIVE",
        `alternatives.${name}: no package in the image registers an alternative "${name}"${known.length ? ` (known: ${known.join(", ")})` : ""}`,
      );
    }
  }
  const choices: AltChoice[] = [];
  const symlinks: AltResult["symlinks"] = [];
  const adminFiles: AltResult["adminFiles"] = [];
  for (const name of [...byName.keys()].sort()) {
    const cands = (byName.get(name) ?? []).filter((c) => exists(c.path));
    if (cands.length === 0) continue;
    cands.sort((a, b) => b.priority - a.priority || (a.path < b.path ? -1 : 1));
    let pick = cands[0];
    let mode: "auto" | "manual" = "auto";
    if (chosen[name]) {
      const c = cands.find((x) => x.path === chosen[name]);
      if (!c) {
        throw new BuildError(
          "E_ALTERNATIVE",
          `alternatives.${name}: ${chosen[name]} is not a candidate (candidates: ${cands.map((x) => x.path).join(", ")})`,
        );
      }
      pick = c;
      mode = "manual";
    }
    const master = pick.link;
    symlinks.push({ path: master, target: `/etc/alternatives/${name}` });
    symlinks.push({ path: `/etc/alternatives/${name}`, target: pick.path });
    // slave names are the union over candidates, in first-seen order
    const slaveNames: Array<{ name: string; link: string }> = [];
    for (const c of cands) {
      for (const s of c.slaves) if (!slaveNames.some((x) => x.name === s.name)) slaveNames.push(s);
    }
    const slaves = slaveNames.map((s) => {
      const mine = pick.slaves.find((x) => x.name === s.name);
      const path = mine && exists(mine.path) ? mine.path : undefined;
      if (path) {
        symlinks.push({ path: s.link, target: `/etc/alternatives/${s.name}` });
        symlinks.push({ path: `/etc/alternatives/${s.name}`, target: path });
      }
      return { name: s.name, link: s.link, path };
    });
    // dpkg's format: mode, master link, (slave name, slave link)*, "", then per candidate:
    // path, priority, one line per slave (its path or empty), and a final "".
    const lines = [mode, master];
    for (const s of slaveNames) lines.push(s.name, s.link);
    lines.push("");
    for (const c of cands) {
      lines.push(c.path, String(c.priority));
      for (const s of slaveNames) lines.push(c.slaves.find((x) => x.name === s.name)?.path ?? "");
    }
    lines.push("");
    adminFiles.push({ name, content: `${lines.join("\n")}\n` });
    choices.push({
      name,
      link: master,
      path: pick.path,
      priority: pick.priority,
      mode,
      candidates: cands.map((c) => ({ path: c.path, priority: c.priority, package: c.package })),
      slaves,
    });
  }
  return { choices, symlinks, adminFiles };
}
