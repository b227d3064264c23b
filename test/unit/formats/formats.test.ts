import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  applyWhiteout,
  formatGroup,
  formatOsRelease,
  formatPasswd,
  parseGroup,
  parseOsRelease,
  parsePasswd,
  whiteoutOf,
  writablePaths,
} from "../../../src/formats/index.ts";

describe("passwd and group", () => {
  test("what the builder writes reads back the same; comments and broken lines are skipped", () => {
    const users = [
      { name: "root", uid: 0, gid: 0, gecos: "root", home: "/root", shell: "/sbin/nologin" },
      { name: "proxy", uid: 1000, gid: 0, gecos: "proxy", home: "/var/spool/squid", shell: "/sbin/nologin" },
    ];
    const text = formatPasswd(users);
    assert.equal(text.split("\n")[1], "proxy:x:1000:0:proxy:/var/spool/squid:/sbin/nologin");
    assert.deepEqual(parsePasswd(`# a comment\n${text}broken:x:1\nbad:x:one:0::/:/x\n`), users);
    const groups = [
      { name: "root", gid: 0 },
      { name: "nonroot", gid: 65532 },
    ];
    assert.equal(formatGroup(groups), "root:x:0:\nnonroot:x:65532:\n");
    assert.deepEqual(parseGroup(`${formatGroup(groups)}#x:x:1:\nshort:x\n`), groups);
  });
});

describe("os-release", () => {
  test("quotes, escapes, comments and malformed lines", () => {
    const f = parseOsRelease(
      [
        "# comment",
        'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"',
        "ID=debian",
        "VERSION_ID='13'",
        'NAME="with \\"quotes\\" and \\$dollar"',
        "",
        "no equals sign",
        "=novalue",
        "BAD KEY=x",
      ].join("\n"),
    );
    assert.deepEqual(
      [...f],
      [
        ["PRETTY_NAME", "Debian GNU/Linux 13 (trixie)"],
        ["ID", "debian"],
        ["VERSION_ID", "13"],
        ["NAME", 'with "quotes" and $dollar'],
      ],
    );
  });
  test("what is written reads back the same", () => {
    const fields: Array<[string, string]> = [
      ["PRETTY_NAME", 'a "b" $c `d` \\e'],
      ["ID", "debian"],
    ];
    const text = formatOsRelease(fields);
    assert.equal(text.split("\n")[1], 'ID="debian"');
    assert.deepEqual([...parseOsRelease(text)], fields);
  });
});

describe("whiteouts", () => {
  test("entries name what they delete, in the entry's own path form", () => {
    assert.deepEqual(whiteoutOf("etc/.wh.passwd"), { kind: "delete", path: "etc/passwd" });
    assert.deepEqual(whiteoutOf("/etc/.wh.passwd"), { kind: "delete", path: "/etc/passwd" });
    assert.deepEqual(whiteoutOf("/.wh.tmp"), { kind: "delete", path: "/tmp" });
    assert.deepEqual(whiteoutOf(".wh.tmp"), { kind: "delete", path: "tmp" });
    assert.deepEqual(whiteoutOf("var/lib/.wh..wh..opq"), { kind: "opaque", dir: "var/lib" });
    assert.deepEqual(whiteoutOf("/.wh..wh..opq"), { kind: "opaque", dir: "/" });
    assert.equal(whiteoutOf("etc/passwd"), undefined);
    assert.equal(whiteoutOf("etc/x.wh.y"), undefined);
  });
  test("applying one calls the target's matching operation", async () => {
    const calls: string[] = [];
    const target = {
      removeTree: (p: string) => void calls.push(`remove ${p}`),
      clearLowerChildren: (d: string) => void calls.push(`clear ${d}`),
    };
    await applyWhiteout(whiteoutOf("/a/.wh.b") as NonNullable<ReturnType<typeof whiteoutOf>>, target);
    await applyWhiteout(whiteoutOf("/a/.wh..wh..opq") as NonNullable<ReturnType<typeof whiteoutOf>>, target);
    assert.deepEqual(calls, ["remove /a/b", "clear /a"]);
  });
});

describe("the dev.shellfree.writable label", () => {
  test("comma-separated absolute paths; none without the label", () => {
    const cfg = (labels?: Record<string, string>) => ({
      architecture: "amd64",
      os: "linux",
      config: { Labels: labels },
      rootfs: { type: "layers" as const, diff_ids: [] },
    });
    assert.deepEqual(writablePaths(cfg({ "dev.shellfree.writable": "/run/squid,/var/spool/squid" })), [
      "/run/squid",
      "/var/spool/squid",
    ]);
    assert.deepEqual(writablePaths(cfg({ "dev.shellfree.writable": " /a , relative,," })), ["/a"]);
    assert.deepEqual(writablePaths(cfg({})), []);
    assert.deepEqual(writablePaths(cfg()), []);
  });
});
