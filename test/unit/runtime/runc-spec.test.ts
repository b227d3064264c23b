import assert from "node:assert/strict";
import { test } from "node:test";
import type { OciImageConfig } from "../../../src/formats/index.ts";
import { containerEnv, mainArgv, resolveUserSpec, runtimeSpec } from "../../../src/runtime/runc.ts";

const PASSWD = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n";
const GROUP = "root:x:0:\nstaff:x:50:\n";
const img: OciImageConfig = {
  architecture: "amd64",
  os: "linux",
  rootfs: { type: "layers", diff_ids: [] },
  config: {
    User: "nonroot",
    Env: ["TZ=UTC"],
    Entrypoint: ["/usr/bin/tini-static", "--"],
    Cmd: ["/app/main"],
    WorkingDir: "/app",
    Volumes: { "/data": {} },
  },
};

test("users resolve like a runtime: names via passwd, numeric with passwd gid, explicit groups", () => {
  assert.deepEqual(resolveUserSpec("nonroot", PASSWD, GROUP), {
    uid: 65532,
    gid: 65532,
    home: "/home/nonroot",
  });
  assert.deepEqual(resolveUserSpec("65532", PASSWD, GROUP), {
    uid: 65532,
    gid: 65532,
    home: "/home/nonroot",
  });
  assert.deepEqual(resolveUserSpec("1234:0", PASSWD, GROUP), { uid: 1234, gid: 0, home: undefined });
  assert.deepEqual(resolveUserSpec("nonroot:staff", PASSWD, GROUP), {
    uid: 65532,
    gid: 50,
    home: "/home/nonroot",
  });
  assert.deepEqual(resolveUserSpec("", PASSWD, GROUP), { uid: 0, gid: 0, home: "/root" });
  assert.throws(
    () => resolveUserSpec("ghost", PASSWD, GROUP),
    /user "ghost" is not in the image's \/etc\/passwd/,
  );
  assert.throws(() => resolveUserSpec("nonroot:nogroup", PASSWD, GROUP), /group "nogroup"/);
});

test("config.json from the image config: args, env (PATH/HOME defaults), cwd, user, no capabilities for non-root", () => {
  const s = runtimeSpec(img, {}, { uid: 65532, gid: 65532, home: "/home/nonroot" }) as {
    process: {
      args: string[];
      env: string[];
      cwd: string;
      user: { uid: number; gid: number };
      capabilities: { effective: string[] };
    };
    root: { readonly: boolean };
    linux: { namespaces: Array<{ type: string }> };
    mounts: Array<{ destination: string; type: string }>;
  };
  assert.deepEqual(s.process.args, ["/usr/bin/tini-static", "--", "/app/main"]);
  assert.deepEqual(s.process.env, [
    "TZ=UTC",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/home/nonroot",
  ]);
  assert.equal(s.process.cwd, "/app");
  assert.deepEqual(s.process.user, { uid: 65532, gid: 65532, additionalGids: [65532] });
  assert.deepEqual(s.process.capabilities.effective, []);
  assert.equal(s.root.readonly, false);
  assert.ok(!s.linux.namespaces.some((n) => n.type === "network"), "host network by default");
});

test("read-only root, tmpfs mounts, a fresh network namespace, argv override, env override", () => {
  const s = runtimeSpec(
    img,
    {
      readOnly: true,
      tmpfs: ["/tmp", "/data"],
      network: "none",
      argv: ["/bin/app", "-x"],
      env: { TZ: "Europe/Paris" },
    },
    { uid: 0, gid: 0 },
  ) as {
    process: { args: string[]; env: string[]; capabilities: { effective: string[] } };
    root: { readonly: boolean };
    linux: { namespaces: Array<{ type: string }> };
    mounts: Array<{ destination: string; type: string }>;
  };
  assert.equal(s.root.readonly, true);
  assert.deepEqual(
    s.mounts.filter((m) => m.type === "tmpfs" && !m.destination.startsWith("/dev")).map((m) => m.destination),
    ["/data", "/tmp"],
  );
  assert.ok(s.linux.namespaces.some((n) => n.type === "network"));
  assert.deepEqual(s.process.args, ["/bin/app", "-x"]);
  assert.ok(s.process.env.includes("TZ=Europe/Paris") && !s.process.env.includes("TZ=UTC"));
  assert.ok(
    s.process.capabilities.effective.includes("CAP_NET_BIND_SERVICE"),
    "root gets the default capability set",
  );
});

test("no entrypoint and no cmd is a clear error; containerEnv keeps the image's PATH", () => {
  assert.throws(
    () => mainArgv({ ...img, config: {} }, {}),
    (e: Error & { code?: string }) => e.code === "E_NO_COMMAND",
  );
  assert.deepEqual(
    containerEnv({ ...img, config: { Env: ["PATH=/opt/bin", "HOME=/h"] } }, { uid: 1, gid: 1 }),
    ["PATH=/opt/bin", "HOME=/h"],
  );
});

test("a tmpfs gets the owner of the image directory it covers (runc gives it that directory's mode)", () => {
  const s = runtimeSpec(
    img,
    { readOnly: true, tmpfs: ["/var/spool/squid", "/tmp"] },
    { uid: 1000, gid: 0 },
    undefined,
    new Map([["/var/spool/squid", { uid: 1000, gid: 0 }]]),
  ) as { mounts: Array<{ destination: string; options?: string[] }> };
  const opts = (d: string) => s.mounts.find((m) => m.destination === d)?.options;
  assert.deepEqual(opts("/var/spool/squid"), ["nosuid", "nodev", "mode=1777", "uid=1000", "gid=0"]);
  assert.deepEqual(opts("/tmp"), ["nosuid", "nodev", "mode=1777"]);
});
