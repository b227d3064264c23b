/**
 * /etc/passwd, /etc/group and home directories. Always root (0), nobody (65534) and nonroot
 * (65532), plus the spec's groups and users. Every login-shell field is /sbin/nologin (which
 * need not exist): nothing in an image can log in to a shell.
 */
import { formatGroup, formatPasswd, type PasswdEntry } from "../formats/index.ts";
import type { GroupSpec, UserSpec } from "../spec/index.ts";
import { BuildError } from "./errors.ts";

export const NOLOGIN = "/sbin/nologin";

export type Account = PasswdEntry;

export interface HomeDir {
  /** absolute */
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

export interface AccountsResult {
  users: Account[];
  groups: GroupSpec[];
  passwd: string;
  group: string;
  homes: HomeDir[];
}

const SHELL_NAMES = /(^|\/)(sh|bash|dash|zsh|ksh|mksh|csh|tcsh|fish|ash|busybox|yash|posh|rbash)$/;

const DEFAULT_USERS: Account[] = [
  { name: "root", uid: 0, gid: 0, gecos: "root", home: "/root", shell: NOLOGIN },
  { name: "nobody", uid: 65534, gid: 65534, gecos: "nobody", home: "/nonexistent", shell: NOLOGIN },
  { name: "nonroot", uid: 65532, gid: 65532, gecos: "nonroot", home: "/home/nonroot", shell: NOLOGIN },
];
const DEFAULT_GROUPS: GroupSpec[] = [
  { name: "root", gid: 0 },
  { name: "nobody", gid: 65534 },
  { name: "nonroot", gid: 65532 },
];

export function buildAccounts(spec: { groups: GroupSpec[]; users: UserSpec[] }): AccountsResult {
  const groups = [...DEFAULT_GROUPS];
  const users = [...DEFAULT_USERS];
  const fail = (msg: string): never => {
    throw new BuildError("E_SPEC", `accounts: ${msg}`);
  };
  for (const g of spec.groups) {
    const byName = groups.find((x) => x.name === g.name);
    const byGid = groups.find((x) => x.gid === g.gid);
    if (byName && byName.gid === g.gid) continue;
    if (byName) fail(`group "${g.name}" already exists with gid ${byName.gid}`);
    if (byGid) fail(`gid ${g.gid} of group "${g.name}" is already used by "${byGid.name}"`);
    groups.push({ name: g.name, gid: g.gid });
  }
  for (const u of spec.users) {
    if (u.shell && SHELL_NAMES.test(u.shell)) {
      fail(`user "${u.name}": login shell ${u.shell} is a shell; images have none (leave shell unset)`);
    }
    const byName = users.find((x) => x.name === u.name);
    if (byName) fail(`user "${u.name}" already exists (uid ${byName.uid})`);
    const byUid = users.find((x) => x.uid === u.uid);
    if (byUid) fail(`uid ${u.uid} of user "${u.name}" is already used by "${byUid.name}"`);
    users.push({
      name: u.name,
      uid: u.uid,
      gid: u.gid,
      gecos: u.name,
      home: u.home,
      shell: u.shell ?? NOLOGIN,
    });
    if (!groups.some((g) => g.gid === u.gid)) {
      if (groups.some((g) => g.name === u.name)) fail(`user "${u.name}": gid ${u.gid} has no group`);
      groups.push({ name: u.name, gid: u.gid });
    }
  }
  const passwd = formatPasswd(users);
  const group = formatGroup(groups);
  const homes: HomeDir[] = [{ path: "/root", uid: 0, gid: 0, mode: 0o700 }];
  homes.push({ path: "/home/nonroot", uid: 65532, gid: 65532, mode: 0o700 });
  for (const u of users.slice(DEFAULT_USERS.length)) {
    if (u.home === "/" || u.home === "/nonexistent") continue;
    // GID 0 + group-writable: the home stays usable when a platform runs the image under an
    // arbitrary UID with GID 0 (OpenShift).
    homes.push({ path: u.home, uid: u.uid, gid: u.gid, mode: u.gid === 0 ? 0o770 : 0o700 });
  }
  return { users, groups, passwd, group, homes };
}

/**
 * The image's User ("uid:gid") for `run-as` (a name or uid, optionally :group). Numeric, so it
 * works without /etc/passwd lookups and passes `runAsNonRoot` checks.
 */
export function resolveRunAs(runAs: string, acc: AccountsResult): string {
  const [who, grp] = runAs.split(":");
  const user = /^\d+$/.test(who)
    ? acc.users.find((u) => u.uid === Number(who))
    : acc.users.find((u) => u.name === who);
  if (!user && !/^\d+$/.test(who)) throw new BuildError("E_SPEC", `accounts.run-as: no user "${who}"`);
  const uid = user ? user.uid : Number(who);
  let gid = user ? user.gid : uid;
  if (grp !== undefined) {
    if (/^\d+$/.test(grp)) gid = Number(grp);
    else {
      const g = acc.groups.find((x) => x.name === grp);
      if (!g) throw new BuildError("E_SPEC", `accounts.run-as: no group "${grp}"`);
      gid = g.gid;
    }
  }
  return `${uid}:${gid}`;
}

export const NSSWITCH = [
  "passwd:         files",
  "group:          files",
  "shadow:         files",
  "gshadow:        files",
  "",
  "hosts:          files dns",
  "networks:       files",
  "",
  "protocols:      db files",
  "services:       db files",
  "ethers:         db files",
  "rpc:            db files",
  "",
].join("\n");
