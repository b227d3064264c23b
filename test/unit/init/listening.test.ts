/**
 * The `listening` check in TypeScript (src/init/listening.ts, the mirror of init/listening.go):
 * the /proc/net/tcp{,6} tables the native init's tests read (init/testdata/procnet, the same
 * sockets as a little- and a big-endian kernel print them), and this machine's own tables with a
 * real listener.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { findListener, listeningCheck, parseProcNetTcp, showSocket } from "../../../src/init/listening.ts";

const PROCNET = join(import.meta.dirname, "../../../init/testdata/procnet");

function tables(order: string) {
  const big = order === "big-endian";
  return ["tcp", "tcp6"].map((t) => parseProcNetTcp(readFileSync(join(PROCNET, order, t), "latin1"), big));
}

describe("listening: /proc/net/tcp tables", () => {
  const cases: Array<[string, string | null]> = [
    ["15432", "127.0.0.1:15432"],
    ["127.0.0.2:15432", null],
    ["[::1]:15432", null],
    ["127.0.0.1:2024", "0.0.0.0:2024"],
    ["[::1]:2024", null],
    ["10.1.2.3:8080", "10.1.2.3:8080"],
    ["127.0.0.1:3128", "[::]:3128"],
    ["[::1]:3128", "[::]:3128"],
    ["[::1]:9000", "[::1]:9000"],
    ["127.0.0.1:9000", null],
    ["127.0.0.2:7000", "[::ffff:7f00:2]:7000"],
    ["[fe80::1]:5353", "[fe80::1]:5353"],
    ["5000", null],
    ["33485", null],
    ["3129", null],
    ["4000", null],
  ];
  for (const order of ["little-endian", "big-endian"]) {
    test(order, () => {
      const t = tables(order);
      for (const [target, want] of cases) {
        const r = findListener(target, t);
        assert.equal(r.ok ? showSocket(r.socket) : null, want, `${order} ${target}`);
      }
    });
  }
  test("a table of the other byte order (qemu-user) still matches: the address is tried both ways", () => {
    for (const order of ["little-endian", "big-endian"]) {
      const other = ["tcp", "tcp6"].map((t) =>
        parseProcNetTcp(readFileSync(join(PROCNET, order, t), "latin1"), order === "little-endian"),
      );
      for (const [target, want] of cases) {
        const r = findListener(target, other);
        assert.equal(r.ok, want !== null, `${order} ${target}`);
        if (r.ok && target.includes(":")) assert.equal(showSocket(r.socket), want, `${order} ${target}`);
      }
    }
    // the price: a socket on the byte-swapped address is taken for it
    const r = findListener("1.0.0.127:15432", tables("little-endian"));
    assert.ok(r.ok && showSocket(r.socket) === "1.0.0.127:15432");
  });
});

describe("listening: this machine", () => {
  test("a real listener passes, the other family and a closed one do not", async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    const r = listeningCheck(`127.0.0.1:${port}`);
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.detail, `listening 127.0.0.1:${port}: 127.0.0.1:${port} in LISTEN state`);
    assert.equal(listeningCheck(`[::1]:${port}`).ok, false);
    await new Promise<void>((r) => srv.close(() => r()));
    assert.deepEqual(listeningCheck(`${port}`), {
      ok: false,
      detail: `listening ${port}: no socket in LISTEN state`,
    });
    assert.match(listeningCheck("1", "/nonexistent").detail, /cannot read \/nonexistent\/tcp: ENOENT/);
  });
});
