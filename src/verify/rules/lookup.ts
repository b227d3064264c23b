/**
 * What several rules look up in the image: the user it runs as, the executable argv[0] names
 * (PATH and WorkingDir as execve sees them), a small file's text, shell names.
 */
import { parseGroup, parsePasswd } from "../../formats/index.ts";
import { type FsNode, type ImageFs, normalizePath } from "../image-fs.ts";
import type { ImageConfigJson } from "./types.ts";

/** The names of shells. Matched against file names (incl. symlinks and hard links). */
export const SHELL_NAMES = new Set([
  "sh",
  "bash",
  "rbash",
  "dash",
  "ash",
  "zsh",
  "ksh",
  "ksh93",
  "mksh",
  "lksh",
  "pdksh",
  "posh",
  "yash",
  "busybox",
  "toybox",
  "fish",
  "csh",
  "tcsh",
  "bsd-csh",
  "sash",
  "rc.byron",
  "sh.distrib",
]);

/** PATH a runtime uses when the image sets none (what Docker/containerd/podman put in). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function envOf(config: ImageConfigJson): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of config.config?.Env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

export function nodeText(fs: ImageFs, path: string): string | undefined {
  const r = fs.resolve(path);
  if ("missing" in r) return undefined;
  return r.node.content?.text;
}

export type ResolvedUser =
  | { ok: true; uid: number; gid: number; name?: string; spec: string }
  | { ok: false; spec: string; reason: string };

/** Resolve the image's `User` ("uid", "uid:gid", "name", "name:group") like a runtime would. */
export function resolveUser(fs: ImageFs, config: ImageConfigJson): ResolvedUser {
  const spec = (config.config?.User ?? "").trim();
  if (spec === "") return { ok: true, uid: 0, gid: 0, name: "root", spec };
  const [u, g] = spec.split(":", 2);
  const passwd = parsePasswd(nodeText(fs, "/etc/passwd") ?? "");
  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const p = passwd.find((e) => e.uid === uid);
    gid = p?.gid ?? 0;
    name = p?.name;
  } else {
    const p = passwd.find((e) => e.name === u);
    if (!p) {
      return {
        ok: false,
        spec,
        reason: `user "${u}" is not in the image's /etc/passwd${fs.get("/etc/passwd") ? "" : " (there is no /etc/passwd)"}`,
      };
    }
    uid = p.uid;
    gid = p.gid;
    name = p.name;
  }
  if (g !== undefined && g !== "") {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const gr = parseGroup(nodeText(fs, "/etc/group") ?? "").find((e) => e.name === g);
      if (!gr) return { ok: false, spec, reason: `group "${g}" is not in the image's /etc/group` };
      gid = gr.gid;
    }
  }
  return { ok: true, uid, gid: gid ?? 0, name, spec };
}

/** Can `uid`/`gid` execute this node (root: any x bit)? */
export function executableBy(n: FsNode, uid: number, gid: number): boolean {
  if (uid === 0) return (n.mode & 0o111) !== 0;
  if (n.uid === uid) return (n.mode & 0o100) !== 0;
  if (n.gid === gid) return (n.mode & 0o010) !== 0;
  return (n.mode & 0o001) !== 0;
}

export type ExecResolution =
  | { ok: true; path: string; node: FsNode; via: string }
  | { ok: false; reason: string; tried: string[] };

/**
 * Find the executable for argv[0] as execve in the container would: a name with "/" is a path
 * (relative to WorkingDir), a bare name is looked up in the image's PATH.
 */
export function findExecutable(fs: ImageFs, config: ImageConfigJson, arg0: string): ExecResolution {
  const tried: string[] = [];
  const cands: string[] = [];
  if (arg0.includes("/")) {
    cands.push(arg0.startsWith("/") ? arg0 : normalizePath(`${config.config?.WorkingDir || "/"}/${arg0}`));
  } else {
    const path = envOf(config).get("PATH") ?? DEFAULT_PATH;
    for (const d of path.split(":")) if (d) cands.push(normalizePath(`${d}/${arg0}`));
  }
  for (const c of cands) {
    tried.push(c);
    const r = fs.resolve(c);
    if ("missing" in r) continue;
    if (r.node.type !== "file") {
      if (arg0.includes("/"))
        return { ok: false, reason: `${c} is a ${r.node.type === "dir" ? "directory" : r.node.type}`, tried };
      continue;
    }
    return { ok: true, path: r.path, node: r.node, via: c };
  }
  return { ok: false, reason: `${arg0} not found`, tried };
}

export function fmtMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
