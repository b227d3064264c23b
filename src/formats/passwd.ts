/**
 * /etc/passwd and /etc/group (passwd(5), group(5)): the builder writes them, verify and the runc
 * driver read them back to resolve an image's `User`.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** the comment field (a user's name); empty when absent */
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

/** The entries of an /etc/passwd text; comments and malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 7 || line.startsWith("#")) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: fields[0], uid, gid, gecos: fields[4], home: fields[5], shell: fields[6] });
  }
  return out;
}

/** The entries of an /etc/group text; comments and malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 3 || line.startsWith("#")) continue;
    const gid = Number(fields[2]);
    if (Number.isInteger(gid)) out.push({ name: fields[0], gid });
  }
  return out;
}

/** /etc/passwd text: one `name:x:uid:gid:gecos:home:shell` line per entry (no shadow passwords). */
export function formatPasswd(entries: readonly PasswdEntry[]): string {
  return entries.map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.gecos}:${u.home}:${u.shell}\n`).join("");
}

/** /etc/group text: one `name:x:gid:` line per entry (no members). */
export function formatGroup(entries: readonly GroupEntry[]): string {
  return entries.map((g) => `${g.name}:x:${g.gid}:\n`).join("");
}
