/**
 * Pre-start tasks through the real bundled init: each kind, its success, skip and failure paths,
 * and that a failure stops everything before the main process starts (exit 1).
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cleanupAll, freePort, messages, pidsWithArg, startInit, tempDir, until } from "./helpers.ts";

after(cleanupAll);

const FIX = join(import.meta.dirname, "fixtures");
const health = { port: 0, host: "127.0.0.1" };

/** Run init with `tasks` and a main process that leaves a marker; return exit code, messages, marker. */
async function runTasks(
  dir: string,
  tasks: unknown[],
  opts: { uid?: number; gid?: number; noHome?: boolean } = {},
): Promise<{ code: number | null; msgs: string[]; mainRan: boolean }> {
  const marker = join(dir, "main-ran");
  rmSync(marker, { force: true });
  const p = await startInit({
    dir,
    ...opts,
    config: {
      tasks,
      main: [process.execPath, "-e", `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
      health,
    },
  });
  const e = await p.exit();
  return { code: e.code, msgs: messages(p.lines), mainRan: existsSync(marker) };
}

function has(msgs: string[], re: RegExp): boolean {
  return msgs.some((m) => re.test(m));
}

describe("validate", () => {
  test("passes; a failure shows the command's output and exits 1 before main", async () => {
    using d = tempDir();
    const ok = await runTasks(d.path, [{ validate: [process.execPath, "-e", "process.exit(0)"] }]);
    assert.equal(ok.code, 0);
    assert.ok(ok.mainRan);
    const bad = await runTasks(d.path, [
      {
        validate: [
          process.execPath,
          "-e",
          "console.error('FATAL: Bungled squid.conf line 3'); process.exit(1)",
        ],
      },
    ]);
    assert.equal(bad.code, 1);
    assert.ok(has(bad.msgs, /^Task 1\/1 validate .*: failed: exit code 1$/), bad.msgs.join("\n"));
    assert.ok(has(bad.msgs, /^ {2}\| FATAL: Bungled squid\.conf line 3$/));
    assert.ok(has(bad.msgs, /^State: VALIDATING -> ERROR$/));
  });

  test("timeout kills the command's process group", async () => {
    using d = tempDir();
    const r = await runTasks(d.path, [{ validate: ["sleep", "53.5"], timeout: "300ms" }]);
    assert.equal(r.code, 1);
    assert.ok(
      has(r.msgs, /^Task 1\/1 validate sleep 53\.5: failed: timed out after 300 ms/),
      r.msgs.join("\n"),
    );
    assert.equal(r.mainRan, false);
    await until(async () => (await pidsWithArg("53.5")).length === 0, 3000);
  });

  test("a command that does not exist", async () => {
    using d = tempDir();
    const r = await runTasks(d.path, [{ validate: ["/no/such/validator"] }]);
    assert.equal(r.code, 1);
    assert.ok(has(r.msgs, /failed: cannot execute \/no\/such\/validator: ENOENT$/), r.msgs.join("\n"));
  });
});

describe("ensure-dir", () => {
  test("creates a missing directory; fails when create is off", async () => {
    using d = tempDir();
    const r = await runTasks(d.path, [{ "ensure-dir": join(d.path, "a/b/c") }]);
    assert.equal(r.code, 0);
    assert.ok(statSync(join(d.path, "a/b/c")).isDirectory());
    const r2 = await runTasks(d.path, [{ "ensure-dir": join(d.path, "nope"), create: false }]);
    assert.equal(r2.code, 1);
    assert.ok(has(r2.msgs, /directory \S+\/nope does not exist \(create: false\)$/));
    assert.equal(r2.mainRan, false);
  });

  test("not writable by the current UID → error naming the path and the UID", async () => {
    using d = tempDir();
    const locked = join(d.path, "locked");
    mkdirSync(locked, { mode: 0o755 });
    chmodSync(locked, 0o755); // root-owned, not writable by 65532
    const r = await runTasks(d.path, [{ "ensure-dir": locked, writable: true }], { uid: 65532, gid: 65532 });
    assert.equal(r.code, 1, r.msgs.join("\n"));
    assert.ok(
      has(
        r.msgs,
        new RegExp(
          `^Task 1/1 ensure-dir ${locked}: failed: directory ${locked} is not writable by UID 65532 GID 65532 \\(owner 0:0, mode 0755\\): EACCES`,
        ),
      ),
      r.msgs.join("\n"),
    );
    assert.equal(r.mainRan, false);
  });

  test("a file in the way", async () => {
    using d = tempDir();
    writeFileSync(join(d.path, "f"), "");
    const r = await runTasks(d.path, [{ "ensure-dir": join(d.path, "f") }]);
    assert.equal(r.code, 1);
    assert.ok(has(r.msgs, /\/f exists but is not a directory$/));
  });
});

describe("merge-pem", () => {
  test("merges cert + key into one PEM with mode 0600", async () => {
    using d = tempDir();
    const out = join(d.path, "ca.pem");
    const r = await runTasks(d.path, [
      { "merge-pem": { cert: join(FIX, "tls.crt"), key: join(FIX, "tls.key"), out }, "when-exists": true },
    ]);
    assert.equal(r.code, 0, r.msgs.join("\n"));
    const pem = readFileSync(out, "utf8");
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal(
      pem,
      `${readFileSync(join(FIX, "tls.crt"), "utf8").trim()}\n${readFileSync(join(FIX, "tls.key"), "utf8").trim()}\n`,
    );
    assert.ok(has(r.msgs, /merge-pem .*: ok \(wrote \S+ca\.pem \(mode 0600, 1 certificate\(s\) \+ key\)/));
  });

  test("skipped when inputs are missing and when-exists is set; an error otherwise", async () => {
    using d = tempDir();
    const task = { cert: join(d.path, "tls.crt"), key: join(d.path, "tls.key"), out: join(d.path, "ca.pem") };
    const r = await runTasks(d.path, [{ "merge-pem": task, "when-exists": true }]);
    assert.equal(r.code, 0);
    assert.ok(
      has(r.msgs, /merge-pem .*: skipped \(.*tls\.crt, .*tls\.key missing \(when-exists\)/),
      r.msgs.join("\n"),
    );
    assert.equal(existsSync(task.out), false);
    const r2 = await runTasks(d.path, [{ "merge-pem": task }]);
    assert.equal(r2.code, 1);
    assert.ok(has(r2.msgs, /failed: input missing: /));
  });

  test("bad PEM → clear error, exit 1, nothing written, main not started", async () => {
    using d = tempDir();
    const cert = join(d.path, "tls.crt");
    const key = join(d.path, "tls.key");
    const out = join(d.path, "ca.pem");
    writeFileSync(cert, "this is not a certificate\n");
    copyFileSync(join(FIX, "tls.key"), key);
    const r = await runTasks(d.path, [{ "merge-pem": { cert, key, out } }]);
    assert.equal(r.code, 1);
    assert.ok(has(r.msgs, new RegExp(`failed: ${cert}: no valid PEM CERTIFICATE block$`)), r.msgs.join("\n"));
    assert.equal(existsSync(out), false);
    assert.equal(r.mainRan, false);
    // a PEM block whose content is not a certificate
    writeFileSync(cert, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    const r2 = await runTasks(d.path, [{ "merge-pem": { cert, key, out } }]);
    assert.equal(r2.code, 1);
    assert.ok(has(r2.msgs, /: not a valid X\.509 certificate/), r2.msgs.join("\n"));
    // a key without a PEM block
    copyFileSync(join(FIX, "tls.crt"), cert);
    writeFileSync(key, "garbage");
    const r3 = await runTasks(d.path, [{ "merge-pem": { cert, key, out } }]);
    assert.equal(r3.code, 1);
    assert.ok(has(r3.msgs, /tls\.key: no valid PEM PRIVATE KEY block$/));
    // a key that does not belong to the certificate
    copyFileSync(join(FIX, "other.key"), key);
    const r4 = await runTasks(d.path, [{ "merge-pem": { cert, key, out } }]);
    assert.equal(r4.code, 1);
    assert.ok(has(r4.msgs, /tls\.key does not match the certificate in /));
    assert.equal(existsSync(out), false);
  });
});

describe("run", () => {
  test("runs once; skipped when its when-missing path exists; failure exits 1", async () => {
    using d = tempDir();
    const made = join(d.path, "cache", "00");
    const task = {
      run: [process.execPath, "-e", `require('fs').mkdirSync(${JSON.stringify(made)}, { recursive: true })`],
      "when-missing": made,
    };
    const r1 = await runTasks(d.path, [task]);
    assert.equal(r1.code, 0);
    assert.ok(existsSync(made));
    assert.ok(has(r1.msgs, /^Task 1\/1 run .*: ok \(exit code 0/));
    const r2 = await runTasks(d.path, [task]);
    assert.ok(has(r2.msgs, /^Task 1\/1 run .*: skipped \(\S+\/cache\/00 exists/), r2.msgs.join("\n"));
    const r3 = await runTasks(d.path, [{ run: [process.execPath, "-e", "process.exit(4)"] }]);
    assert.equal(r3.code, 1);
    assert.ok(has(r3.msgs, /^Task 1\/1 run .*: failed: exit code 4$/));
    assert.equal(r3.mainRan, false);
  });
});

describe("wait-for", () => {
  test("tcp: waits until the port listens", async () => {
    using d = tempDir();
    const port = await freePort();
    const srv = createServer((s) => s.end());
    const timer = setTimeout(() => srv.listen(port, "127.0.0.1"), 600);
    try {
      const t0 = performance.now();
      const r = await runTasks(d.path, [{ "wait-for": { tcp: `127.0.0.1:${port}`, timeout: "10s" } }]);
      assert.equal(r.code, 0, r.msgs.join("\n"));
      assert.ok(performance.now() - t0 >= 500);
      assert.ok(
        has(r.msgs, /wait-for tcp 127\.0\.0\.1:\d+: ok \(tcp 127\.0\.0\.1:\d+: connected after \d+ attempt/),
      );
    } finally {
      clearTimeout(timer);
      srv.close();
    }
  });

  test("http: waits for a 2xx answer", async () => {
    using d = tempDir();
    let n = 0;
    const srv = createHttpServer((_q, s) => {
      n++;
      s.statusCode = n < 3 ? 503 : 200;
      s.end();
    });
    await new Promise<void>((res) => srv.listen(0, "127.0.0.1", () => res()));
    const port = (srv.address() as { port: number }).port;
    try {
      const r = await runTasks(d.path, [
        { "wait-for": { http: `http://127.0.0.1:${port}/ready` }, timeout: "10s" },
      ]);
      assert.equal(r.code, 0, r.msgs.join("\n"));
      assert.ok(n >= 3);
      assert.ok(has(r.msgs, /: 200 after 3 attempt\(s\)/), r.msgs.join("\n"));
    } finally {
      srv.close();
    }
  });

  test("unreachable within the timeout → exit 1 naming the last error", async () => {
    using d = tempDir();
    const port = await freePort();
    const t0 = performance.now();
    const r = await runTasks(d.path, [{ "wait-for": { tcp: `127.0.0.1:${port}`, timeout: "700ms" } }]);
    const took = performance.now() - t0;
    assert.equal(r.code, 1);
    assert.ok(took >= 650 && took < 5000, `${took} ms`);
    assert.ok(
      has(
        r.msgs,
        /failed: not reachable within 700 ms \(\d+ attempts; last: tcp 127\.0\.0\.1:\d+: ECONNREFUSED\)$/,
      ),
    );
    assert.equal(r.mainRan, false);
  });
});

describe("arbitrary UID", () => {
  test("UID 1234567 / GID 0 not in /etc/passwd, HOME unset → HOME=/tmp, tasks and main run", async () => {
    using d = tempDir();
    const spool = join(d.path, "spool");
    mkdirSync(spool);
    chmodSync(spool, 0o770); // group 0 writable, as the builder lays out dirs for OpenShift
    chmodSync(d.path, 0o777); // where the main process leaves its marker
    const r = await runTasks(d.path, [{ "ensure-dir": spool, writable: true }], {
      uid: 1234567,
      gid: 0,
      noHome: true,
    });
    assert.equal(r.code, 0, r.msgs.join("\n"));
    assert.ok(r.mainRan);
    assert.ok(has(r.msgs, /^HOME is not set for UID 1234567; using HOME=\/tmp$/), r.msgs.join("\n"));
    assert.ok(
      has(r.msgs, /starting \(PID \d+, UID 1234567 \(not in \/etc\/passwd\), GID 0, HOME \/tmp, config /),
      r.msgs.join("\n"),
    );
    assert.ok(has(r.msgs, /^Task 1\/1 ensure-dir \S+spool: ok \(exists, writable/));
    assert.ok(has(r.msgs, /^Main process PID \d+ exited with code 0$/));
  });
});
