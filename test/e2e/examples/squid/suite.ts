/**
 * The Squid example's behaviour, end to end, under one runtime (runc or podman): the real image,
 * run as an operator runs it (read-only root, tmpfs for its writable paths, no capabilities), in
 * a network namespace of the test's own with the origin servers and the clients. Each
 * squid-proxy-*.test.ts file calls `squidSuite` once: one image build, one namespace, one PKI.
 */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, tempDir } from "../../../helpers/tmp.ts";
import { certThroughProxy, health, viaProxy } from "./client.ts";
import { buildSquidImage, type SquidImage } from "./image.ts";
import { createNetns, type Netns } from "./netns.ts";
import { type Origins, startOrigins } from "./origins.ts";
import { makePki, ORIGIN_NAME, type Pki } from "./pki.ts";
import { podmanRuntime, type Running, runcRuntime, type SquidRuntime } from "./runtimes.ts";

/** The init's log lines without their timestamp and level. */
function messages(c: Running): string[] {
  return c.lines().map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[[A-Z]+\] /, ""));
}

/** The init's "Task N/8 ..." lines and its main-process start, in the order they came. */
function startupOrder(c: Running): string[] {
  return messages(c)
    .filter((m) => /^Task \d+\/\d+ |^Main process squid started/.test(m))
    .map((m) => m.replace(/ \(.*$/, "").replace(/^(Main process squid started).*/, "$1"));
}

/** Host PIDs of the descendants of `pid` whose command line starts with `prefix`. */
function descendants(pid: number, prefix: string): Array<{ pid: number; cmdline: string; uid: number }> {
  const kids = new Map<number, number[]>();
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${n}/status`, "utf8"))?.[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(n)]);
    } catch {
      // gone
    }
  }
  const out: Array<{ pid: number; cmdline: string; uid: number }> = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      try {
        const cmdline = readFileSync(`/proc/${k}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
        const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${k}/status`, "utf8"))?.[1]);
        if (cmdline.startsWith(prefix)) out.push({ pid: k, cmdline, uid });
      } catch {
        // gone
      }
      walk(k);
    }
  };
  walk(pid);
  return out;
}

const READY = /\[INFO\] Ready \(/;

/** `p`'s value, or undefined when it takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function squidSuite(runtimeName: "runc" | "podman"): void {
  describe(`examples/squid-proxy under ${runtimeName}`, () => {
    let dir = "";
    let image: SquidImage;
    let ns: Netns | undefined;
    let pki: Pki;
    let origins: Origins;
    let rt: SquidRuntime | undefined;
    /** conf.d as an operator mounts it: Debian's debian.conf and a site rule of their own */
    let confD = "";
    let tls = "";
    let tlsWithoutKey = "";
    let trust = "";

    before(async () => {
      dir = await tempDir(`shellfree-squid-${runtimeName}-`);
      image = await buildSquidImage(dir, { dockerArchive: runtimeName === "podman" });
      ns = await createNetns();
      pki = await makePki(dir);
      origins = await startOrigins(ns, pki);
      confD = join(dir, "conf.d");
      mkdirSync(confD);
      copyFileSync(join(image.rootfs, "etc/squid/conf.d/debian.conf"), join(confD, "debian.conf"));
      writeFileSync(
        join(confD, "deny.conf"),
        // -n: match names only (without it Squid looks up the name of every IP-address request)
        "# a site rule an operator mounts: no requests to blocked.test\nacl blocked_sites dstdomain -n .blocked.test\nhttp_access deny blocked_sites\n",
      );
      tls = join(dir, "tls");
      tlsWithoutKey = join(dir, "tls-no-key");
      trust = join(dir, "trust");
      for (const d of [tls, tlsWithoutKey, trust]) mkdirSync(d);
      copyFileSync(pki.bumpCert, join(tls, "tls.crt"));
      copyFileSync(pki.bumpKey, join(tls, "tls.key"));
      copyFileSync(pki.bumpCert, join(tlsWithoutKey, "tls.crt"));
      copyFileSync(pki.originCa, join(trust, "origin-ca.pem"));
      // as a Kubernetes Secret with defaultMode 0440 and GID 0: readable by the group only
      chmodSync(join(tls, "tls.key"), 0o440);
      for (const d of [confD, tls, tlsWithoutKey, trust]) {
        chmodSync(d, 0o755);
        for (const f of readdirSync(d)) if (f !== "tls.key") chmodSync(join(d, f), 0o644);
      }
      rt =
        runtimeName === "runc"
          ? runcRuntime(image, ns, join(dir, "containers"))
          : await podmanRuntime(image, ns);
    });
    after(async () => {
      await rt?.cleanup();
      await ns?.remove();
      if (dir) await removeDir(dir);
    });

    const start = (spec: Parameters<SquidRuntime["start"]>[0] = {}) => (rt as SquidRuntime).start(spec);

    describe("the default configuration, with a site rule in conf.d", () => {
      let c: Running;
      before(async () => {
        // names come from /etc/hosts: the namespace has no DNS server (Squid resolves a request's
        // name before the shipped config's link-local rule, which comes before conf.d's rules)
        c = await start({
          mounts: [{ source: confD, destination: "/etc/squid/conf.d" }],
          hosts: { [ORIGIN_NAME]: "127.0.0.1", "www.blocked.test": "127.0.0.1" },
        });
        await c.waitLine(READY, 60_000);
      });
      after(() => c?.remove());

      test("start-up: the tasks in the seeds' order, the ssl-bump ones skipped, then squid -N", () => {
        assert.deepEqual(startupOrder(c), [
          "Task 1/8 ensure-dir /var/lib/squid: skipped",
          "Task 2/8 merge-pem /etc/squid/tls/tls.crt + /etc/squid/tls/tls.key -> /var/lib/squid/squid-ca.pem: skipped",
          "Task 3/8 run /usr/lib/squid/security_file_certgen -c -s /var/lib/squid/ssl_db -M 4MB: skipped",
          "Task 4/8 validate /usr/sbin/squid -k parse -f /etc/squid/squid.conf: ok",
          "Task 5/8 ensure-dir /var/spool/squid: ok",
          "Task 6/8 ensure-dir /var/log/squid: ok",
          "Task 7/8 ensure-dir /run/squid: ok",
          "Task 8/8 run /usr/sbin/squid -z -N -f /etc/squid/squid.conf: ok",
          "Main process squid started",
        ]);
        const m = messages(c);
        assert.ok(
          m.some((l) => /^Task 1\/8 .*skipped \(no line of \/etc\/squid\/squid\.conf matches /.test(l)),
        );
        assert.ok(
          m.some((l) =>
            /^Main process squid started \(PID \d+\): \/usr\/sbin\/squid -N -f \/etc\/squid\/squid\.conf$/.test(
              l,
            ),
          ),
        );
        assert.ok(
          m.some((l) => /^Ready \(checks up: squid-listening, squid-alive; \d+ ms after start\)$/.test(l)),
          m.join("\n"),
        );
      });

      test("a plain GET through the proxy returns the origin's body; the same request again is a cache HIT", async () => {
        const first = await viaProxy(ns as Netns, "http://127.0.0.1/cached");
        assert.equal(first.status, 200, first.curlError);
        assert.equal(first.body, "origin http /cached\n");
        const second = await viaProxy(ns as Netns, "http://127.0.0.1/cached");
        assert.equal(second.status, 200);
        assert.equal(second.body, "origin http /cached\n");
        // Squid 6 says so in the RFC 9211 Cache-Status header (X-Cache is gone)
        assert.match(
          second.headers["cache-status"] ?? "",
          /^squid-proxy;hit/,
          JSON.stringify(second.headers),
        );
        // the access log is the container's stdout: a MISS, then a HIT, for the same URL
        const log = await c.waitLine(/TCP_(MEM_)?HIT\/200 .* GET http:\/\/127\.0\.0\.1\/cached /, 10_000);
        assert.match(log, /^\d+\.\d{3} +\d+ 127\.0\.0\.1 TCP_(MEM_)?HIT\/200 /);
        assert.match(
          c.stdout(),
          /TCP_MISS\/200 \d+ GET http:\/\/127\.0\.0\.1\/cached - HIER_DIRECT\/127\.0\.0\.1 text\/plain/,
        );
        assert.equal((await origins.counts())["http /cached"], 1, "the origin was asked once");
      });

      test("HTTPS CONNECT tunnels to the TLS origin (the client verifies the origin's own certificate)", async () => {
        const r = await viaProxy(ns as Netns, `https://${ORIGIN_NAME}/tunnel`, { cacert: pki.originCa });
        assert.equal(r.curlCode, 0, r.curlError);
        assert.equal(r.status, 200);
        assert.equal(r.body, "origin https /tunnel\n");
        assert.match(
          await c.waitLine(/TCP_TUNNEL\/200 .* CONNECT origin\.test:443 /, 10_000),
          /HIER_DIRECT\/127\.0\.0\.1/,
        );
      });

      test("a destination the mounted conf.d rule denies gets Squid's 403", async () => {
        const r = await viaProxy(ns as Netns, "http://www.blocked.test/page");
        assert.equal(r.status, 403);
        assert.match(r.headers["x-squid-error"] ?? "", /^ERR_ACCESS_DENIED/);
        await c.waitLine(/TCP_DENIED\/403 .* GET http:\/\/www\.blocked\.test\/page /, 10_000);
        // the link-local rule of the shipped config (cloud metadata services)
        const meta = await viaProxy(ns as Netns, "http://169.254.169.254/latest/meta-data/");
        assert.equal(meta.status, 403);
      });

      test("health on 8080 and the image's HEALTHCHECK; no probe ever shows in the access log", async () => {
        for (const path of ["/ready", "/live", "/health"]) {
          const r = await health(ns as Netns, path);
          assert.equal(r.status, 200, `${path}: ${r.body}`);
        }
        const hc = image.config.config?.Healthcheck?.Test ?? [];
        assert.deepEqual(hc, ["CMD", "/usr/bin/shellfree-init", "probe", "/ready"]);
        const probe = await c.exec(hc.slice(1));
        assert.equal(probe.code, 0, probe.stderr);
        // every access-log line is one of this suite's requests (readiness reads /proc/net/tcp,
        // liveness asks the probe port, which the config never logs)
        const access = c
          .stdout()
          .split("\n")
          .filter((l) => /^\d+\.\d{3} /.test(l));
        assert.ok(access.length >= 5, access.join("\n"));
        for (const l of access)
          assert.match(l, /(\/cached|origin\.test:443|blocked\.test|169\.254\.169\.254)/, l);
        assert.doesNotMatch(c.stdout(), /error:transaction-end-before-headers|squid-internal-mgr/);
      });

      test("no shell to exec; Squid's version is the package's", async () => {
        for (const argv of [
          ["/bin/sh", "-c", "true"],
          ["/bin/bash", "-c", "true"],
          ["/bin/dash", "-c", "true"],
          ["/bin/busybox", "sh"],
          ["sh"],
        ]) {
          const r = await c.exec(argv);
          assert.notEqual(r.code, 0, `${argv.join(" ")} ran`);
          assert.match(r.stderr, /no such file or directory|not found/i, argv.join(" "));
        }
        const v = await c.exec(["/usr/sbin/squid", "-v"]);
        assert.equal(v.code, 0, v.stderr);
        const pkg = image.build.architectures[0].packages.find(
          (p: { name: string }) => p.name === "squid-openssl",
        );
        const upstream = String(pkg.version)
          .replace(/^\d+:/, "")
          .replace(/-[^-]+$/, "");
        assert.match(v.stdout, new RegExp(`^Squid Cache: Version ${upstream.replace(/\./g, "\\.")}$`, "m"));
        assert.match(v.stdout, /--with-openssl/, "the OpenSSL build");
      });

      test("read-only root; the writable paths are tmpfs; Squid runs as UID 1000 GID 0", async () => {
        const pid = await c.hostPid();
        const mounts = readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n");
        const root = mounts.find((l) => l.split(" ")[4] === "/");
        assert.ok(root, "a root mount");
        assert.match(root.split(" ")[5], /(^|,)ro(,|$)/, `root mounted read-only: ${root}`);
        for (const p of ["/var/spool/squid", "/var/log/squid", "/var/lib/squid", "/run/squid"]) {
          const m = mounts.find((l) => l.split(" ")[4] === p);
          assert.ok(m && / - tmpfs /.test(m), `${p} is a tmpfs`);
        }
        const squid = descendants(pid, "/usr/sbin/squid -N");
        assert.equal(squid.length, 1, JSON.stringify(squid));
        assert.equal(squid[0].uid, 1000);
        assert.match(readFileSync(`/proc/${squid[0].pid}/status`, "utf8"), /^Gid:\s+0\s/m);
      });

      test("SIGTERM: exit 0 and 'Shutdown complete' within 5 s", async () => {
        const t0 = performance.now();
        await c.signal("TERM");
        const e = await within(c.exited, 15_000);
        assert.ok(e, "exited");
        const ms = Math.round(e.at - t0);
        // the init's own timestamps: from the signal's arrival to its last line (what the 5 s
        // bound is about: Squid's 30 s default would end in SIGKILL), without the runtime's
        // command-line latency on a loaded machine
        const at = (re: RegExp) => {
          const l = c.lines().find((x) => re.test(x));
          assert.ok(l, `a line matching ${re}`);
          return Date.parse(l.slice(0, 23).replace(" ", "T"));
        };
        const inside = at(/\[INFO\] Shutdown complete/) - at(/\[INFO\] Received signal SIGTERM$/);
        process.stderr.write(
          `squid-proxy (${runtimeName}): SIGTERM → exit ${e.code} in ${ms} ms (${inside} ms in the init's log)\n`,
        );
        assert.equal(e.code, 0, c.lines().slice(-20).join("\n"));
        assert.ok(inside >= 0 && inside < 5000, `${inside} ms from SIGTERM to Shutdown complete`);
        assert.ok(ms < 10_000, `${ms} ms until the runtime returned`);
        const m = messages(c);
        assert.ok(m.includes("Received signal SIGTERM"));
        assert.ok(
          m.some((l) => /^Main process squid \(PID \d+\) stopped: exited with code 0$/.test(l)),
          m.slice(-10).join("\n"),
        );
        assert.ok(m.includes("Shutdown complete (exit code 0)"));
        assert.match(c.stderr(), /Squid Cache \(Version [\d.]+\): Exiting normally\./);
      });
    });

    test("any UID: 1234567 with GID 0 starts, proxies and stops", async () => {
      const c = await start({ user: "1234567:0" });
      try {
        await c.waitLine(READY, 60_000);
        assert.ok(messages(c).some((l) => /^shellfree-init \S+ starting \(PID 1, UID 1234567 /.test(l)));
        const r = await viaProxy(ns as Netns, "http://127.0.0.1/any-uid");
        assert.equal(r.status, 200);
        assert.equal(r.body, "origin http /any-uid\n");
        const squid = descendants(await c.hostPid(), "/usr/sbin/squid -N");
        assert.equal(squid[0]?.uid, 1234567);
        await c.signal("TERM");
        assert.equal((await c.exited).code, 0);
      } finally {
        await c.remove();
      }
    });

    test("killing Squid ends the container with a non-zero code and names the main process", async () => {
      const c = await start();
      try {
        await c.waitLine(READY, 60_000);
        const [squid] = descendants(await c.hostPid(), "/usr/sbin/squid -N");
        assert.ok(squid, "squid runs");
        process.kill(squid.pid, "SIGKILL");
        const e = await within(c.exited, 15_000);
        assert.ok(e, "the container exited");
        assert.notEqual(e.code, 0);
        assert.equal(e.code, 137, "the main process's code: 128 + SIGKILL");
        assert.ok(
          messages(c).some((l) => /^Main process squid \(PID \d+\) died: killed by SIGKILL$/.test(l)),
          messages(c).slice(-10).join("\n"),
        );
      } finally {
        await c.remove();
      }
    });

    test("a broken config fails fast: Squid's own FATAL line, exit 1, Squid never started", async () => {
      const conf = join(dir, "broken.conf");
      const shipped = readFileSync(join(image.rootfs, "etc/squid/squid.conf"), "utf8");
      writeFileSync(conf, shipped.replace(/^cache_mem 64 MB$/m, "cache_mem plenty"));
      chmodSync(conf, 0o644);
      const line = shipped.split("\n").indexOf("cache_mem 64 MB") + 1;
      assert.ok(line > 0);
      const t0 = performance.now();
      const c = await start({ mounts: [{ source: conf, destination: "/etc/squid/squid.conf" }] });
      try {
        const e = await within(c.exited, 20_000);
        assert.ok(e, "exited");
        process.stderr.write(
          `squid-proxy (${runtimeName}): broken config → exit ${e.code} after ${Math.round(e.at - t0)} ms\n`,
        );
        assert.equal(e.code, 1);
        const out = c.lines().join("\n");
        assert.match(
          out,
          new RegExp(`FATAL: Bungled /etc/squid/squid\\.conf line ${line}: cache_mem plenty`),
        );
        assert.match(
          out,
          /\[ERROR\] Task 4\/8 validate \/usr\/sbin\/squid -k parse -f \/etc\/squid\/squid\.conf: failed/,
        );
        assert.doesNotMatch(out, /Main process squid started/);
      } finally {
        await c.remove();
      }
    });

    describe("ssl-bump", () => {
      test("with the mounted CA pair: merge, certgen, parse in that order; clients see certificates issued by that CA", async () => {
        const c = await start({
          env: {
            SQUID_CONFIG: "/etc/squid/squid-sslbump.conf",
            SSL_CERT_FILE: "/etc/squid/trust/origin-ca.pem",
          },
          mounts: [
            { source: tls, destination: "/etc/squid/tls" },
            { source: trust, destination: "/etc/squid/trust" },
          ],
          hosts: { [ORIGIN_NAME]: "127.0.0.1" },
        });
        try {
          await c.waitLine(READY, 60_000);
          assert.deepEqual(startupOrder(c), [
            "Task 1/8 ensure-dir /var/lib/squid: ok",
            "Task 2/8 merge-pem /etc/squid/tls/tls.crt + /etc/squid/tls/tls.key -> /var/lib/squid/squid-ca.pem: ok",
            "Task 3/8 run /usr/lib/squid/security_file_certgen -c -s /var/lib/squid/ssl_db -M 4MB: ok",
            "Task 4/8 validate /usr/sbin/squid -k parse -f /etc/squid/squid-sslbump.conf: ok",
            "Task 5/8 ensure-dir /var/spool/squid: ok",
            "Task 6/8 ensure-dir /var/log/squid: ok",
            "Task 7/8 ensure-dir /run/squid: ok",
            "Task 8/8 run /usr/sbin/squid -z -N -f /etc/squid/squid-sslbump.conf: ok",
            "Main process squid started",
          ]);
          const cert = await certThroughProxy(ns as Netns, ORIGIN_NAME, pki.bumpCert);
          assert.equal(cert.verify, "0 (ok)", cert.output);
          assert.equal(cert.issuer.replace(/\s/g, ""), pki.bumpSubject.replace(/\s/g, ""), cert.output);
          assert.match(cert.subject, /CN ?= ?origin\.test/, cert.output);
          const r = await viaProxy(ns as Netns, `https://${ORIGIN_NAME}/bumped`, { cacert: pki.bumpCert });
          assert.equal(r.curlCode, 0, r.curlError);
          assert.equal(r.status, 200);
          assert.equal(r.body, "origin https /bumped\n");
          // bumped: Squid saw the request inside the tunnel, not only the CONNECT
          await c.waitLine(/ GET https:\/\/origin\.test\/bumped /, 10_000);
          // and the origin's own CA no longer works for the client: Squid is in the middle
          const direct = await viaProxy(ns as Netns, `https://${ORIGIN_NAME}/bumped`, {
            cacert: pki.originCa,
          });
          assert.notEqual(direct.curlCode, 0);
          await c.signal("TERM");
          assert.equal((await c.exited).code, 0);
        } finally {
          await c.remove();
        }
      });

      test("with the key missing: the start stops at the merge, naming the file; exit 1", async () => {
        const c = await start({
          env: { SQUID_CONFIG: "/etc/squid/squid-sslbump.conf" },
          mounts: [{ source: tlsWithoutKey, destination: "/etc/squid/tls" }],
        });
        try {
          const e = await within(c.exited, 20_000);
          assert.ok(e, "exited");
          assert.equal(e.code, 1);
          const err = c.lines().find((l) => /\[ERROR\] Task 2\/8 merge-pem /.test(l));
          assert.ok(err, c.lines().join("\n"));
          assert.match(err, /\/etc\/squid\/tls\/tls\.key/);
          assert.doesNotMatch(c.lines().join("\n"), /Task 4\/8|Main process squid started/);
        } finally {
          await c.remove();
        }
      });
    });
  });
}
