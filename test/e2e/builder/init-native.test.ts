// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} in init: is expanded by the init, not by JavaScript
/**
 * An image with `init:` and no `runtime.node`, built by `shellfree build` and run under runc:
 * `preset: static` plus a tiny static main compiled here with `gcc -static` (a TCP server that
 * leaves orphans behind, stops on SIGTERM and exits 42 on SIGUSR1), supervised by the native
 * shellfree-init as PID 1 with no tini.
 *
 * The build: the init at /usr/bin/shellfree-init (the bytes of dist/init/amd64, statically
 * linked), its size printed, no Node anywhere, the init's entrypoint and HEALTHCHECK, its version
 * and SHA256 in shellfree.lock and both SBOMs, `--locked` refusing another binary, and two builds
 * (separate caches) giving the same digest.
 * The run (what issue 14 asks of PID 1): orphans reaped (0 zombies), SIGTERM → exit 0 within
 * drain + grace + 1 s, the main process dying → the container exits with its code and the named
 * log line, UID 1234567/GID 0 and 65532, a read-only root.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { formatLock, parseLock } from "../../../src/builder/index.ts";
import { initBinaryPath, initVersion } from "../../../src/init/index.ts";
import { openImage } from "../../../src/oci/index.ts";
import { type Container, RuncDriver } from "../../../src/runtime/index.ts";
import { freePort } from "../../helpers/net.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

/** The main process: a static TCP server on argv[1]; orphans at start; SIGTERM → 0; SIGUSR1 → 42. */
const MINI_C = `#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t term;
static void on_term(int s) { (void)s; term = 1; }
static void on_usr1(int s) { (void)s; _exit(42); }

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8000;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term; /* no SA_RESTART: accept() returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* three children that each leave a grandchild living 4 s (an orphan), then exit */
  for (int i = 0; i < 3; i++) {
    pid_t c = fork();
    if (c == 0) {
      if (fork() == 0) { usleep(4000000); _exit(0); }
      _exit(0);
    }
    waitpid(c, NULL, 0);
  }
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("mini: bind"); return 3; }
  printf("mini listening on %d as uid %d gid %d\\n", port, (int)getuid(), (int)getgid());
  while (!term) {
    int c = accept(s, NULL, NULL);
    if (c < 0) { if (errno == EINTR) continue; perror("mini: accept"); return 4; }
    char buf[512];
    (void)read(c, buf, sizeof buf);
    const char *r = "HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n";
    (void)write(c, r, strlen(r));
    close(c);
  }
  printf("mini got SIGTERM\\n");
  return 0;
}
`;

const EPOCH = { SOURCE_DATE_EPOCH: "1767225600" };
const DRAIN_MS = 500;
const GRACE_MS = 5000;

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmd: string;
}

/** The processes in the PID namespace of host PID `pid1` (host PIDs). */
function processesOf(pid1: number): Proc[] {
  const ns = readlinkSync(`/proc/${pid1}/ns/pid`);
  const out: Proc[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) !== ns) continue;
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim();
      out.push({ pid: Number(d), ppid: Number(rest[1]), state: rest[0], cmd });
    } catch {} // gone meanwhile
  }
  return out;
}

async function until(what: string, ms: number, f: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

async function get(port: number, path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

function stderrLines(c: Container): string[] {
  return c
    .logs()
    .stderr.split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[[A-Z]+\] /, ""));
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("an image with init: and no runtime.node (preset static + a static main)", () => {
  let dir = "";
  let appPort = 0;
  let healthPort = 0;
  let digest = "";
  let buildOut = "";
  let rootfs = "";
  let driver: RuncDriver | undefined;
  const INIT_SHA = sha256(initBinaryPath("amd64"));

  before(async () => {
    dir = await tempDir("shellfree-init-native-");
    appPort = await freePort();
    healthPort = await freePort();
    await writeFile(join(dir, "mini.c"), MINI_C);
    mustSucceed(
      await runCommand("gcc", ["-static", "-O2", "-o", join(dir, "mini"), join(dir, "mini.c")], {
        allowFail: true,
      }),
      "gcc -static",
    );
    await writeFile(
      join(dir, "shellfree.yaml"),
      `name: init-native
preset: static
suite: trixie
architectures: [amd64]
files:
  - { src: ./mini, dest: /usr/local/bin/mini, mode: "0755" }
init:
  tasks:
    - { ensure-dir: /tmp, writable: true }
  main: [/usr/local/bin/mini, "\${MINI_PORT}"]
  main-name: mini
  health: { port: ${healthPort}, host: 127.0.0.1, ready: { tcp: "127.0.0.1:\${MINI_PORT}" } }
  shutdown: { drain: ${DRAIN_MS}ms, grace: ${GRACE_MS}ms }
config:
  env: { MINI_PORT: "${appPort}" }
`,
    );
    mustSucceed(await shellfree(["lock", "-f", join(dir, "shellfree.yaml"), "--cache-dir", CACHE]), "lock");
    const b = await shellfree(
      [
        "build",
        "-f",
        join(dir, "shellfree.yaml"),
        "--locked",
        "-o",
        `oci:${dir}/image:latest`,
        "--cache-dir",
        CACHE,
      ],
      { env: EPOCH },
    );
    mustSucceed(b, "build");
    buildOut = b.stdout;
    digest = /^digest (sha256:[0-9a-f]{64})/m.exec(b.stdout)?.[1] ?? "";
    const u = await runCommand("umoci", ["unpack", "--image", `${dir}/image:latest`, join(dir, "bundle")], {
      allowFail: true,
    });
    mustSucceed(u, "umoci unpack");
    rootfs = join(dir, "bundle/rootfs");
  });
  after(async () => {
    await driver?.cleanup();
    if (dir) await removeDir(dir);
  });

  test("the native init is in the image, statically linked; its size is printed; no Node anywhere", async () => {
    const init = join(rootfs, "usr/bin/shellfree-init");
    assert.equal(sha256(init), INIT_SHA, "the bytes of dist/init/amd64/shellfree-init");
    assert.equal(statSync(init).mode & 0o7777, 0o755);
    assert.match((await runCommand("file", ["-b", init])).stdout, /^ELF 64-bit .*statically linked/);
    const size = statSync(init).size;
    assert.ok(
      buildOut.includes(`shellfree-init ${initVersion()} at /usr/bin/shellfree-init: `) &&
        buildOut.includes(`(${size} bytes), sha256:${INIT_SHA}`),
      buildOut,
    );
    const nodeLike: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (/^(node|nodejs|node_modules|libnode.*)$/.test(e.name)) nodeLike.push(join(d, e.name));
        if (e.isDirectory()) walk(join(d, e.name));
      }
    };
    walk(rootfs);
    assert.deepEqual(nodeLike, [], "no node anywhere");
    assert.ok(!existsSync(join(rootfs, "usr/lib/shellfree")), "no Node init bundle");
    const cfg = JSON.parse(readFileSync(join(dir, "bundle/config.json"), "utf8"));
    assert.deepEqual(cfg.process.args, ["/usr/bin/shellfree-init"]);
    const image = JSON.parse(readFileSync(join(rootfs, "etc/shellfree/init.json"), "utf8"));
    assert.deepEqual(image.main, ["/usr/local/bin/mini", "${MINI_PORT}"]);
  });

  test("shellfree.lock and both SBOMs record the init's version and SHA256", async () => {
    const lock = parseLock(readFileSync(join(dir, "shellfree.lock"), "utf8"), "shellfree.lock");
    assert.deepEqual(lock.architectures.amd64.init, { version: initVersion(), sha256: INIT_SHA });
    assert.equal(lock.architectures.amd64.node, undefined);
    const cdx = JSON.parse(readFileSync(join(dir, "image.cdx.json"), "utf8"));
    const c = cdx.components.find((x: { name: string }) => x.name === "shellfree-init");
    assert.equal(c.purl, `pkg:generic/shellfree-init@${initVersion()}`);
    assert.deepEqual(c.hashes, [{ alg: "SHA-256", content: INIT_SHA }]);
    assert.match(JSON.stringify(c.licenses), /Apache-2\.0/);
    assert.ok(c.properties.some((p: { value: string }) => p.value === "/usr/bin/shellfree-init"));
    assert.ok(!cdx.components.some((x: { name: string }) => x.name === "node"));
    const spdx = JSON.parse(readFileSync(join(dir, "image.spdx.json"), "utf8"));
    const p = spdx.packages.find((x: { name: string }) => x.name === "shellfree-init");
    assert.deepEqual(p.checksums, [{ algorithm: "SHA256", checksumValue: INIT_SHA }]);
    assert.ok(
      p.externalRefs.some(
        (r: { referenceLocator: string }) =>
          r.referenceLocator === `pkg:generic/shellfree-init@${initVersion()}`,
      ),
    );
  });

  test("a second build with its own cache gives the same digest; --locked refuses another init", async () => {
    const cache2 = join(dir, "cache2");
    await mkdir(join(cache2, "debs"), { recursive: true });
    symlinkSync(join(CACHE, "debs", "sha256"), join(cache2, "debs", "sha256"));
    const again = await shellfree(
      [
        "build",
        "-f",
        join(dir, "shellfree.yaml"),
        "--locked",
        "-o",
        `oci:${dir}/again`,
        "--cache-dir",
        cache2,
        "--json",
      ],
      { env: EPOCH },
    );
    mustSucceed(again, "second build");
    const j = JSON.parse(again.stdout);
    assert.ok(
      j.architectures[0].layers.every((l: { cached: boolean }) => !l.cached),
      "nothing reused",
    );
    assert.equal(j.digest, digest);
    // a lock that records another binary
    const lock = parseLock(readFileSync(join(dir, "shellfree.lock"), "utf8"), "shellfree.lock");
    lock.architectures.amd64.init = { version: initVersion(), sha256: "0".repeat(64) };
    await writeFile(join(dir, "shellfree.lock"), formatLock(lock));
    const refused = await shellfree(
      [
        "build",
        "-f",
        join(dir, "shellfree.yaml"),
        "--locked",
        "-o",
        `oci:${dir}/refused`,
        "--cache-dir",
        CACHE,
      ],
      { env: EPOCH },
    );
    assert.equal(refused.code, 1, refused.stderr);
    const first = refused.stderr.split("\n").find((l) => l.startsWith("shellfree: "));
    assert.equal(
      first,
      `shellfree: ${join(dir, "shellfree.lock")} (amd64) records shellfree-init ${initVersion()} sha256:000000000000, but this shellfree carries shellfree-init ${initVersion()} sha256:${INIT_SHA.slice(0, 12)}`,
    );
    assert.match(refused.stderr, /^hint: run `shellfree lock`/m);
    assert.ok(!existsSync(join(dir, "refused")), "no output");
  });

  describe("under runc, the init as PID 1 (no tini)", () => {
    before(async () => {
      const img = await openImage(`oci:${dir}/image:latest`);
      driver = new RuncDriver(img.config, img.layers);
      await driver.prepare();
    });

    test("as 65532: ready, orphans reaped (0 zombies), SIGTERM → exit 0 within drain + grace + 1 s", async () => {
      const c = await (driver as RuncDriver).start({ network: "host" });
      try {
        await until("/ready 200", 20_000, async () => (await get(healthPort, "/ready")) === 200);
        const pid1 = await c.hostPid();
        // the three grandchildren, orphaned, are the init's children now
        await until("3 orphans under the init", 5_000, () => {
          const ps = processesOf(pid1);
          const mini = ps.find(
            (p) => p.ppid === pid1 && p.state !== "Z" && p.cmd.startsWith("/usr/local/bin/mini"),
          );
          return (
            ps.filter(
              (p) => p.ppid === pid1 && p.cmd.startsWith("/usr/local/bin/mini") && p.pid !== mini?.pid,
            ).length === 3
          );
        });
        await until(
          "orphans gone",
          10_000,
          () => processesOf(pid1).filter((p) => p.cmd.startsWith("/usr/local/bin/mini")).length === 1,
        );
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(
          processesOf(pid1).filter((p) => p.state === "Z"),
          [],
          "no zombies",
        );
        // the HEALTHCHECK the build set: the init's own probe
        const probe = await c.exec(["/usr/bin/shellfree-init", "probe", "/ready"]);
        assert.equal(probe.code, 0, probe.stderr + probe.stdout);
        const t0 = performance.now();
        await c.signal("SIGTERM");
        const code = await c.exited;
        const took = performance.now() - t0;
        assert.equal(code, 0, c.logs().stderr);
        assert.ok(took < DRAIN_MS + GRACE_MS + 1000, `stopped in ${Math.round(took)} ms`);
        assert.match(c.logs().stdout, /mini listening on \d+ as uid 65532 gid 65532\nmini got SIGTERM\n/);
        const lines = stderrLines(c);
        assert.match(
          lines.find((l) => l.startsWith("shellfree-init ")) ?? "",
          /starting \(PID 1, UID 65532 \(nonroot\), GID 65532,/,
        );
        assert.ok(lines.indexOf("Received signal SIGTERM") > 0, lines.join("\n"));
        assert.ok(
          lines.indexOf("Shutdown complete (exit code 0)") > lines.indexOf("Received signal SIGTERM"),
        );
      } finally {
        await c.remove();
      }
    });

    test("UID 1234567 / GID 0, read-only root: runs; the main process exits 42 → the container exits 42, saying so", async () => {
      const c = await (driver as RuncDriver).start({
        network: "host",
        user: "1234567:0",
        readOnly: true,
        tmpfs: ["/tmp"],
      });
      try {
        await until("/ready 200", 20_000, async () => (await get(healthPort, "/ready")) === 200);
        // the ready check connects as soon as mini listens, which may be just before it prints
        await until("mini's listening line", 10_000, async () =>
          /mini listening on \d+ as uid 1234567 gid 0/.test(c.logs().stdout),
        );
        await c.signal("SIGUSR1"); // forwarded to the main process, which exits 42
        assert.equal(await c.exited, 42, c.logs().stderr);
        const lines = stderrLines(c);
        assert.ok(
          lines.some((l) =>
            /starting \(PID 1, UID 1234567 \(not in \/etc\/passwd\), GID 0, HOME \/tmp,/.test(l),
          ),
          lines.join("\n"),
        );
        assert.ok(
          lines.some((l) => /^Received signal SIGUSR1; forwarding to main process mini \(PID \d+\)$/.test(l)),
          lines.join("\n"),
        );
        assert.ok(
          lines.some((l) => /^Main process mini \(PID \d+\) died: exited with code 42$/.test(l)),
          lines.join("\n"),
        );
      } finally {
        await c.remove();
      }
    });

    test("the main process killed from the host: the container exits 137 with the named log line", async () => {
      const c = await (driver as RuncDriver).start({ network: "host" });
      try {
        await until("/ready 200", 20_000, async () => (await get(healthPort, "/ready")) === 200);
        const pid1 = await c.hostPid();
        const mini = processesOf(pid1).find(
          (p) => p.ppid === pid1 && p.cmd.startsWith("/usr/local/bin/mini"),
        );
        assert.ok(mini);
        process.kill(mini.pid, "SIGKILL");
        assert.equal(await c.exited, 137, c.logs().stderr);
        const lines = stderrLines(c);
        assert.ok(
          lines.some((l) => /^Main process mini \(PID \d+\) died: killed by SIGKILL$/.test(l)),
          lines.join("\n"),
        );
      } finally {
        await c.remove();
      }
    });
  });
});
