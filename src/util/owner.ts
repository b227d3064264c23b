/**
 * Who owns a temp file or a lock, and whether that owner still runs. An owner is written
 * `PID-START-HOST`: the process id, its start time (clock ticks since boot, from /proc, so a
 * recycled PID is not mistaken for the owner) and a short tag of the machine (host name and
 * boot id: a process of another machine or container sharing the directory cannot be checked,
 * so it counts as alive).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface Owner {
  pid: number;
  /** start time in clock ticks since boot ("0" when unknown) */
  start: string;
  /** 6 hex digits naming the machine (and its boot) */
  host: string;
}

/** A process's start time (field 22 of /proc/PID/stat), undefined when it does not exist. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // the command name (field 2) may hold spaces and parentheses: fields after the last ')'
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

function machineTag(): string {
  let boot = "";
  try {
    boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
  } catch {
    // no /proc: the host name alone
  }
  return createHash("sha256").update(`${hostname()}\n${boot}`).digest("hex").slice(0, 6);
}

let self: Owner | undefined;

/** This process as an owner. */
export function selfOwner(): Owner {
  self ??= { pid: process.pid, start: processStart(process.pid) ?? "0", host: machineTag() };
  return self;
}

/** `PID-START-HOST`, the form written into temp names and lock files. */
export function ownerString(o: Owner = selfOwner()): string {
  return `${o.pid}-${o.start}-${o.host}`;
}

/** Parse `PID-START-HOST` (undefined when it is not one). */
export function parseOwner(s: string): Owner | undefined {
  const m = /^([0-9]{1,10})-([0-9]{1,20})-([0-9a-f]{6})$/.exec(s);
  if (!m) return undefined;
  return { pid: Number(m[1]), start: m[2], host: m[3] };
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether `o` may still be running. False only when it certainly is not: same machine, and
 * the PID is gone or belongs to a process that started at another time.
 */
export function ownerAlive(o: Owner): boolean {
  if (o.host !== selfOwner().host) return true;
  if (o.pid === process.pid) return o.start === selfOwner().start;
  if (!pidExists(o.pid)) return false;
  const start = processStart(o.pid);
  return start === undefined || o.start === "0" || start === o.start;
}

/** Whether a bare PID (an older temp name) still runs on this machine. */
export function pidAlive(pid: number): boolean {
  return pid === process.pid || pidExists(pid);
}
