/**
 * The `listening` check: is a socket in LISTEN state on an address and port, in the init's
 * network namespace? Read from /proc/net/tcp and /proc/net/tcp6 without connecting (a bare
 * connect shows in the access log of servers such as Squid). Mirrors init/listening.go.
 *
 * /proc/net/tcp prints each address as 32-bit words in hex, each word as the kernel's CPU reads
 * it from memory (the bytes of the address are in network order there): "0100007F" is 127.0.0.1
 * on a little-endian kernel, "7F000001" on a big-endian one. Ports are printed in hex as numbers.
 * The kernel's order need not be the init's (qemu-user runs an s390x image on an x86-64 kernel),
 * so an address that does not match in this CPU's order is tried in the other.
 * The kernel lists listening sockets before the others, so reading stops at the first line in
 * a state other than LISTEN or SYN_RECV (old kernels printed a listener's open requests, in
 * SYN_RECV, right after it).
 */
import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { parseListenTarget } from "./address.ts";

const LISTEN = "0A";
const SYN_RECV = "03";

export interface ListeningSocket {
  /** 4 bytes (tcp) or 16 (tcp6), read in the byte order asked for */
  addr: number[];
  port: number;
  /** the address read in the other byte order */
  other?: number[];
}

/** Listening sockets of a /proc/net/tcp or tcp6 table (the words' byte order given). */
export function parseProcNetTcp(text: string, bigEndian: boolean): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 4) continue;
    const st = f[3].toUpperCase();
    if (st !== LISTEN) {
      if (st === SYN_RECV) continue;
      break;
    }
    const [hex, portHex] = f[1].split(":");
    if (portHex === undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex)) continue;
    if (!/^(?:[0-9A-Fa-f]{8}){1,4}$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) continue;
    const addr: number[] = [];
    const other: number[] = [];
    for (let w = 0; w < hex.length; w += 8) {
      const word = [0, 2, 4, 6].map((k) => Number.parseInt(hex.slice(w + k, w + k + 2), 16));
      const swapped = [...word].reverse();
      addr.push(...(bigEndian ? word : swapped));
      other.push(...(bigEndian ? swapped : word));
    }
    out.push({ addr, port: Number.parseInt(portHex, 16), other });
  }
  return out;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4; others unchanged. */
function unmap(a: number[]): number[] {
  if (a.length === 16 && a.slice(0, 10).every((b) => b === 0) && a[10] === 255 && a[11] === 255)
    return a.slice(12);
  return a;
}

const isZero = (a: number[]) => a.every((b) => b === 0);

/**
 * Does the socket accept connections to target? Same port, and the same address, or a
 * wildcard: 0.0.0.0 for IPv4 addresses, :: for any (a [::] socket takes IPv4 too unless it is
 * IPV6_V6ONLY, which /proc does not show; Linux's default is dual-stack).
 */
export function socketServes(s: ListeningSocket, target: { addr: number[] | null; port: number }): boolean {
  if (s.port !== target.port) return false;
  if (target.addr === null) return true;
  if (s.addr.length === 16 && isZero(s.addr)) return true;
  const a = unmap(s.addr);
  const t = unmap(target.addr);
  if (a.length === 4 && isZero(a) && t.length === 4) return true;
  return a.length === t.length && a.every((b, i) => b === t[i]);
}

/** An address for messages: 127.0.0.1:80, [::1]:80 (RFC 5952: the longest zero run as ::). */
export function showSocket(s: ListeningSocket): string {
  if (s.addr.length === 4) return `${s.addr.join(".")}:${s.port}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(s.addr[i] * 256 + s.addr[i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  const text = best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
  return `[${text}]:${s.port}`;
}

/** The first socket in these tables that serves target ("PORT" or "ADDRESS:PORT"). */
export function findListener(
  target: string,
  tables: ListeningSocket[][],
): { ok: true; socket: ListeningSocket } | { ok: false; problem?: string } {
  const t = parseListenTarget(target);
  if (t === null) return { ok: false, problem: `bad target ${target}` };
  for (const table of tables)
    for (const s of table) {
      if (socketServes(s, t)) return { ok: true, socket: s };
      const o = { addr: s.other ?? s.addr, port: s.port };
      if (socketServes(o, t)) return { ok: true, socket: o };
    }
  return { ok: false };
}

/** Is a socket in LISTEN state on target, in /proc/net/tcp or tcp6 (no connection made)? */
export function listeningCheck(target: string, procNet = "/proc/net"): { ok: boolean; detail: string } {
  const tables: ListeningSocket[][] = [];
  for (const name of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${name}`, "latin1");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (name === "tcp6" && code === "ENOENT") continue; // IPv6 disabled
      return { ok: false, detail: `listening ${target}: cannot read ${procNet}/${name}: ${code ?? e}` };
    }
    tables.push(parseProcNetTcp(text, endianness() === "BE"));
  }
  const r = findListener(target, tables);
  if (r.ok) return { ok: true, detail: `listening ${target}: ${showSocket(r.socket)} in LISTEN state` };
  return { ok: false, detail: `listening ${target}: ${r.problem ?? "no socket in LISTEN state"}` };
}
