/**
 * IP address literals and `listening` targets, read the same way by the builder and the native
 * init (init/address.go): IPv4 as four decimal parts 0-255 without leading zeros, IPv6 in the
 * RFC 4291 text form (groups of 1 to 4 hex digits, one `::` standing for at least one zero
 * group, an IPv4 tail allowed; no zone). Pure: no I/O, no imports.
 */

const V4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** "a.b.c.d" → its 4 bytes; null when malformed. */
export function parseIPv4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!V4_PART.test(p) || Number(p) > 255) return null;
    out.push(Number(p));
  }
  return out;
}

/** 16-bit groups of one side of `::` (an IPv4 tail counts two, only where `last`). */
function v6Groups(h: string, last: boolean): number[] | null {
  if (h === "") return [];
  const out: number[] = [];
  const parts = h.split(":");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (last && i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIPv4(p);
      if (v4 === null) return null;
      out.push(v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]);
    } else if (V6_GROUP.test(p)) out.push(Number.parseInt(p, 16));
    else return null;
  }
  return out;
}

/** An IPv6 address (without brackets) → its 16 bytes; null when malformed. */
export function parseIPv6(s: string): number[] | null {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = v6Groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? v6Groups(halves[1], true) : [];
  if (head === null || tail === null) return null;
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return null;
  const groups = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

/**
 * A `listening` target: "PORT" (any address) or "ADDRESS:PORT" with an IPv4 address or a
 * bracketed IPv6 one (no names: nothing is resolved), port 1 to 65535. `addr` is 4 or 16 bytes,
 * null for any address; null when malformed.
 */
export function parseListenTarget(s: string): { addr: number[] | null; port: number } | null {
  const m = /^(?:(?:\[([^\]]*)\]|([0-9.]+)):)?([0-9]{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  if (m[1] !== undefined) {
    const a = parseIPv6(m[1]);
    return a === null ? null : { addr: a, port };
  }
  if (m[2] !== undefined) {
    const a = parseIPv4(m[2]);
    return a === null ? null : { addr: a, port };
  }
  return { addr: null, port };
}
