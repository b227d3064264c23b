/**
 * The one-pass needle scan (NeedleScan) answers exactly as the plain searches do: on ELF files
 * of this host, and on made-up bytes that hold the needles in every form (one-byte NUL-bounded,
 * UTF-32 in both byte orders, `~` needles anywhere), cut at the edges, one byte off, or
 * surrounded by tables of small numbers.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { test } from "node:test";
import {
  ALL_SIGNATURES,
  INTERPRETER_SIGNATURES,
  matchSignature,
  matchSignatureSlow,
  needleForms,
  SHELL_SIGNATURES,
  type Signature,
  scanNeedles,
} from "../../../src/verify/signatures.ts";

function both(data: Buffer): [Array<string | undefined>, Array<string | undefined>] {
  const scan = scanNeedles(data, ALL_SIGNATURES);
  return [
    [matchSignature(scan, SHELL_SIGNATURES), matchSignature(scan, INTERPRETER_SIGNATURES)],
    [matchSignatureSlow(data, SHELL_SIGNATURES), matchSignatureSlow(data, INTERPRETER_SIGNATURES)],
  ];
}

const NEEDLES = [...new Set(ALL_SIGNATURES.flatMap((s) => [...s.all, ...(s.some?.of ?? [])]))];

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

test("each needle alone, in each of its forms, is found as the plain search finds it", () => {
  const scan = (d: Buffer) => scanNeedles(d, ALL_SIGNATURES);
  for (const n of NEEDLES) {
    for (const [i, form] of needleForms(n).entries()) {
      for (const pad of [0, 1, 3]) {
        const d = Buffer.concat([Buffer.alloc(pad, 0x41), form, Buffer.alloc(pad, 0x42)]);
        const s = scan(d);
        assert.equal(s.has(n), d.includes(form), `${n} form ${i} pad ${pad}`);
        // one byte missing at either end: found only if the plain search finds it too
        for (const cut of [form.subarray(1), form.subarray(0, -1)]) {
          const e = Buffer.concat([Buffer.alloc(pad, 0x41), cut, Buffer.alloc(pad, 0x42)]);
          const plain = needleForms(n).some((f) => e.includes(f));
          assert.equal(scan(e).has(n), plain, `${n} form ${i} cut, pad ${pad}`);
        }
      }
    }
  }
});

test("made-up files with needles, near-misses and small-number tables match as the plain search does", () => {
  const next = rng(20261202);
  const pick = <T>(a: T[]): T => a[next() % a.length];
  let matched = 0;
  for (let round = 0; round < 400; round++) {
    const parts: Buffer[] = [];
    const count = 1 + (next() % 12);
    for (let k = 0; k < count; k++) {
      const r = next() % 6;
      if (r === 0) parts.push(pick(needleForms(pick(NEEDLES))));
      else if (r === 1) {
        // a needle's characters as UTF-32 with one NUL too few or too many
        const f = pick(needleForms(pick(NEEDLES)));
        const at = next() % f.length;
        parts.push(next() % 2 ? Buffer.concat([f.subarray(0, at), f.subarray(at + 1)]) : f);
      } else if (r === 2) {
        // a table of small numbers (u32), some of them needle characters
        const t = Buffer.alloc(4 * (1 + (next() % 16)));
        for (let o = 0; o < t.length; o += 4) t[o + (next() % 2 ? 0 : 3)] = pick([0x41, 0x53, 0x5f, 3, 0x65]);
        parts.push(t);
      } else if (r === 3) parts.push(Buffer.alloc(next() % 9));
      else {
        const b = Buffer.alloc(next() % 24);
        for (let o = 0; o < b.length; o++) b[o] = next() % 3 === 0 ? 0 : 0x20 + (next() % 0x5f);
        parts.push(b);
      }
    }
    // every needle of one signature, so that the signatures themselves match now and then
    if (round % 5 === 0) {
      const s: Signature = pick(ALL_SIGNATURES);
      for (const n of [...s.all, ...(s.some?.of ?? [])]) parts.push(pick(needleForms(n)));
    }
    const data = Buffer.concat(parts);
    const [fast, slow] = both(data);
    assert.deepEqual(fast, slow, `round ${round}`);
    if (slow.some((x) => x !== undefined)) matched++;
  }
  assert.ok(matched > 20, `${matched} rounds matched a signature`);
});

test("the ELF files of this host get the same answers as with the plain searches", () => {
  let files = 0;
  let bytes = 0;
  for (const dir of ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (bytes > 32 << 20) break;
      const p = `${dir}/${name}`;
      let size: number;
      try {
        const st = statSync(p);
        if (!st.isFile()) continue;
        size = st.size;
      } catch {
        continue;
      }
      if (size < 64 || size > 4 << 20) continue;
      const data = readFileSync(p);
      if (data.readUInt32BE(0) !== 0x7f454c46) continue;
      files++;
      bytes += size;
      const [fast, slow] = both(data);
      assert.deepEqual(fast, slow, p);
    }
  }
  assert.ok(files > 10, `${files} ELF files`);
});
