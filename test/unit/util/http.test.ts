/**
 * util/http.ts's timeouts (issue 17 item 5): the defaults give up on a host that never answers
 * within 2 minutes, retries included (checked by arithmetic on the retry budget, without
 * waiting for it), `--timeout`/$SHELLFREE_TIMEOUT scale them, and a real request to a server on
 * 127.0.0.1 that never answers fails with E_TIMEOUT within the budget.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  getOnce,
  netTimeouts,
  parseTimeoutSeconds,
  RetryBudget,
  redactUrl,
  StallError,
  withRetries,
} from "../../../src/util/http.ts";

describe("network timeouts", () => {
  test("defaults: connect 10 s, idle 30 s, 2 minutes in all", () => {
    const saved = process.env.SHELLFREE_TIMEOUT;
    delete process.env.SHELLFREE_TIMEOUT;
    try {
      assert.deepEqual(netTimeouts(), { connectMs: 10_000, idleMs: 30_000, budgetMs: 120_000 });
    } finally {
      if (saved !== undefined) process.env.SHELLFREE_TIMEOUT = saved;
    }
  });

  test("$SHELLFREE_TIMEOUT sets the idle timeout; connect ≤ idle, budget 4 × idle", () => {
    const saved = process.env.SHELLFREE_TIMEOUT;
    process.env.SHELLFREE_TIMEOUT = "2";
    try {
      assert.deepEqual(netTimeouts(), { connectMs: 2000, idleMs: 2000, budgetMs: 8000 });
    } finally {
      if (saved === undefined) delete process.env.SHELLFREE_TIMEOUT;
      else process.env.SHELLFREE_TIMEOUT = saved;
    }
  });

  test("malformed timeouts are refused", () => {
    for (const bad of ["", "x", "-1", "0", "1e9", "3601", "2s"]) {
      assert.equal(parseTimeoutSeconds(bad), undefined, bad);
    }
    assert.equal(parseTimeoutSeconds("2.5"), 2.5);
  });

  test("a host that stalls every time: the defaults stop retrying before 2 minutes are used", () => {
    const t = { connectMs: 10_000, idleMs: 30_000, budgetMs: 120_000 };
    const budget = new RetryBudget(t);
    let waited = 0;
    let attempts = 0;
    for (let delay = 200; ; delay *= 2) {
      attempts++;
      waited += t.idleMs; // the attempt stalls for its whole idle timeout
      if (!budget.another(true, delay)) break;
      waited += delay;
      assert.ok(attempts < 10, "the budget ends the retries");
    }
    assert.ok(waited <= 120_000, `gave up after ${waited} ms`);
    assert.equal(attempts, 3);
  });

  test("failures that do not stall use only their backoff", () => {
    const budget = new RetryBudget({ connectMs: 10_000, idleMs: 30_000, budgetMs: 120_000 });
    for (let i = 0; i < 3; i++) assert.equal(budget.another(false, 200 * 2 ** i), true);
  });
});

describe("a server that accepts and never answers", () => {
  let server: ReturnType<typeof createServer>;
  const sockets = new Set<Socket>();
  let base = "";
  before(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on("data", () => {});
      s.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  test("one attempt: a StallError naming the host and the path", async () => {
    await assert.rejects(getOnce(`${base}/x`, { idleMs: 300 }), (e) => {
      assert.ok(e instanceof StallError);
      assert.equal(e.message, `${new URL(base).host}: no answer to GET /x within 300 ms`);
      return true;
    });
  });

  test("with retries: E_TIMEOUT after the budget, the password never in the message", async () => {
    const url = `http://u:s3cr3t-pw@${new URL(base).host}/y`;
    await assert.rejects(
      withRetries(url, { idleMs: 300, baseDelayMs: 10 }, (_a, ctx) => getOnce(url, { ctx })),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_TIMEOUT");
        assert.match(e.message, new RegExp(`^GET ${redactUrl(url)} failed after 3 attempts: `));
        assert.doesNotMatch(e.message, /s3cr3t/);
        return true;
      },
    );
  });
});
