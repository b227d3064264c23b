import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildAccounts, resolveRunAs } from "../../../src/builder/accounts.ts";
import { applyAlternatives, parseAlternatives } from "../../../src/builder/alternatives.ts";
import { caBundle } from "../../../src/builder/cacerts.ts";
import { dpkgDatabase, filterMd5sums, infoName, statusParagraph } from "../../../src/builder/dpkgdb.ts";
import { osRelease } from "../../../src/builder/osrelease.ts";
import { parseOsRelease } from "../../../src/formats/index.ts";

describe("accounts", () => {
  test("defaults: root, nobody, nonroot with nologin shells and homes", () => {
    const a = buildAccounts({ groups: [], users: [] });
    assert.equal(
      a.passwd,
      "root:x:0:0:root:/root:/sbin/nologin\n" +
        "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
        "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    );
    assert.equal(a.group, "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n");
    assert.deepEqual(
      a.homes.map((h) => [h.path, h.uid, h.mode.toString(8)]),
      [
        ["/root", 0, "700"],
        ["/home/nonroot", 65532, "700"],
      ],
    );
  });
  test("spec users: GID 0 homes are group-writable; own group created; run-as numeric", () => {
    const a = buildAccounts({
      groups: [{ name: "proxy", gid: 13 }],
      users: [
        { name: "proxy", uid: 1000, gid: 0, home: "/var/spool/squid" },
        { name: "app", uid: 1001, gid: 1001, home: "/home/app" },
      ],
    });
    assert.match(a.passwd, /^proxy:x:1000:0:proxy:\/var\/spool\/squid:\/sbin\/nologin$/m);
    assert.match(a.group, /^proxy:x:13:$/m);
    assert.match(a.group, /^app:x:1001:$/m);
    assert.equal(a.homes.find((h) => h.path === "/var/spool/squid")?.mode, 0o770);
    assert.equal(a.homes.find((h) => h.path === "/home/app")?.mode, 0o700);
    assert.equal(resolveRunAs("proxy", a), "1000:0");
    assert.equal(resolveRunAs("1001", a), "1001:1001");
    assert.equal(resolveRunAs("app:proxy", a), "1001:13");
    assert.equal(resolveRunAs("4242", a), "4242:4242");
    for (const line of a.passwd.trim().split("\n")) assert.equal(line.split(":")[6], "/sbin/nologin");
  });
  test("rejects shells, duplicate uids and names", () => {
    assert.throws(
      () =>
        buildAccounts({ groups: [], users: [{ name: "a", uid: 5, gid: 5, home: "/a", shell: "/bin/bash" }] }),
      /login shell \/bin\/bash is a shell/,
    );
    assert.throws(
      () => buildAccounts({ groups: [], users: [{ name: "b", uid: 65532, gid: 1, home: "/b" }] }),
      /uid 65532 .* used by "nonroot"/,
    );
    assert.throws(
      () => buildAccounts({ groups: [], users: [{ name: "root", uid: 7, gid: 7, home: "/r" }] }),
      /user "root" already exists/,
    );
  });
});

describe("os-release", () => {
  const debian = [
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"',
    'NAME="Debian GNU/Linux"',
    'VERSION_ID="13"',
    'VERSION="13 (trixie)"',
    "VERSION_CODENAME=trixie",
    "DEBIAN_VERSION_FULL=13.8",
    "ID=debian",
    'HOME_URL="https://www.debian.org/"',
    "",
  ].join("\n");
  test("PRETTY_NAME says shellfree on Debian, the rest is Debian's", () => {
    const f = parseOsRelease(osRelease(debian, "13.8\n", "trixie"));
    assert.equal(f.get("PRETTY_NAME"), "shellfree image on Debian GNU/Linux 13 (trixie)");
    assert.equal(f.get("ID"), "debian");
    assert.equal(f.get("VERSION_ID"), "13");
    assert.equal(f.get("VERSION_CODENAME"), "trixie");
    assert.equal(f.get("DEBIAN_VERSION_FULL"), "13.8");
    assert.equal(f.get("HOME_URL"), "https://www.debian.org/");
  });
  test("values are quoted as base-files quotes them: ID=debian, VERSION_CODENAME=trixie bare", () => {
    const text = osRelease(debian, "13.8\n", "trixie");
    const lines = text.split("\n");
    for (const l of ["ID=debian", "VERSION_CODENAME=trixie", "DEBIAN_VERSION_FULL=13.8", 'VERSION_ID="13"'])
      assert.ok(lines.includes(l), `${l} in\n${text}`);
    assert.ok(lines.includes('NAME="Debian GNU/Linux"'));
    assert.ok(lines.includes("VARIANT_ID=shellfree"));
    assert.ok(lines.includes('VARIANT="shellfree"'));
    // every line Debian wrote for a field kept as-is is byte-identical in ours
    for (const l of debian.split("\n").filter((x) => x && !x.startsWith("PRETTY_NAME=")))
      assert.ok(lines.includes(l), `Debian's line ${l} kept`);
    // without base-files' file: base-files' usual form
    const fallback = osRelease(undefined, "13.8\n", "trixie").split("\n");
    assert.ok(fallback.includes("ID=debian") && fallback.includes("VERSION_CODENAME=trixie"));
    // Debian's quoting wins where it quotes
    const quoted = osRelease('ID="debian"\nVERSION_CODENAME="trixie"\n', undefined, "trixie").split("\n");
    assert.ok(quoted.includes('ID="debian"') && quoted.includes('VERSION_CODENAME="trixie"'));
  });
  test("without base-files' file it still says Debian N", () => {
    const f = parseOsRelease(osRelease(undefined, "13.8\n", "trixie"));
    assert.equal(f.get("PRETTY_NAME"), "shellfree image on Debian GNU/Linux 13 (trixie)");
    assert.equal(f.get("VERSION_ID"), "13");
  });
});

describe("alternatives", () => {
  const squidOpenssl = [
    "#!/bin/sh",
    "set -e",
    "# Automatically added by dh_installalternatives/13.24.2",
    'if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ]; then',
    "        update-alternatives --install /usr/sbin/squid squid /usr/sbin/squid-openssl 70 \\",
    "            --slave /usr/share/man/man8/squid.8.gz squid.8.gz /usr/share/man/man8/squid-openssl.8.gz",
    "fi",
    "# End automatically added section",
  ].join("\n");
  const squidGnutls = "update-alternatives --install /usr/sbin/squid squid /usr/sbin/squid-gnutls 50\n";
  test("parses dh_installalternatives blocks with slaves", () => {
    assert.deepEqual(parseAlternatives(squidOpenssl), [
      {
        link: "/usr/sbin/squid",
        name: "squid",
        path: "/usr/sbin/squid-openssl",
        priority: 70,
        slaves: [
          {
            link: "/usr/share/man/man8/squid.8.gz",
            name: "squid.8.gz",
            path: "/usr/share/man/man8/squid-openssl.8.gz",
          },
        ],
      },
    ]);
    assert.deepEqual(
      parseAlternatives(
        'update-alternatives --remove squid "$x"\nupdate-alternatives --install "$a" b c 1\n',
      ),
      [],
    );
  });
  const installs = [...parseAlternatives(squidOpenssl), ...parseAlternatives(squidGnutls)];
  const present = new Set(["/usr/sbin/squid-openssl", "/usr/sbin/squid-gnutls"]);
  test("highest priority wins; dead slaves get no link; admin file in dpkg's format", () => {
    const r = applyAlternatives(installs, {}, (p) => present.has(p));
    assert.equal(r.choices[0].path, "/usr/sbin/squid-openssl");
    assert.equal(r.choices[0].mode, "auto");
    assert.deepEqual(r.symlinks, [
      { path: "/usr/sbin/squid", target: "/etc/alternatives/squid" },
      { path: "/etc/alternatives/squid", target: "/usr/sbin/squid-openssl" },
    ]);
    assert.equal(
      r.adminFiles[0].content,
      "auto\n/usr/sbin/squid\nsquid.8.gz\n/usr/share/man/man8/squid.8.gz\n\n" +
        "/usr/sbin/squid-openssl\n70\n/usr/share/man/man8/squid-openssl.8.gz\n" +
        "/usr/sbin/squid-gnutls\n50\n\n\n",
    );
  });
  test("the spec can choose; a wrong choice is an error", () => {
    const r = applyAlternatives(installs, { squid: "/usr/sbin/squid-gnutls" }, (p) => present.has(p));
    assert.equal(r.choices[0].path, "/usr/sbin/squid-gnutls");
    assert.equal(r.choices[0].mode, "manual");
    assert.throws(
      () => applyAlternatives(installs, { squid: "/usr/sbin/nope" }, (p) => present.has(p)),
      /not a candidate/,
    );
    assert.throws(
      () => applyAlternatives(installs, { awk: "/usr/bin/mawk" }, () => true),
      /no package .* registers an alternative "awk"/,
    );
  });
  test("candidates not in the image are ignored", () => {
    const r = applyAlternatives(installs, {}, (p) => p === "/usr/sbin/squid-gnutls");
    assert.equal(r.choices[0].path, "/usr/sbin/squid-gnutls");
  });
});

describe("CA bundle", () => {
  const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----`;
  test("sorted by path, each ending in a newline, non-certificates skipped", () => {
    const enc = new TextEncoder();
    const b = caBundle(
      new Map([
        ["usr/share/ca-certificates/mozilla/B.crt", enc.encode(`${pem("BBB")}\n`)],
        ["usr/share/ca-certificates/mozilla/A.crt", enc.encode(pem("AAA"))],
        ["usr/share/ca-certificates/mozilla/README", enc.encode("x")],
        ["usr/share/ca-certificates/mozilla/C.crt", enc.encode("not a cert")],
      ]),
    );
    assert.equal(new TextDecoder().decode(b), `${pem("AAA")}\n${pem("BBB")}\n`);
    assert.equal(caBundle(new Map()), undefined);
  });
});

describe("dpkg database", () => {
  const control = [
    "Package: libfoo1",
    "Source: foo (1.2-3)",
    "Version: 1.2-3+b1",
    "Architecture: amd64",
    "Maintainer: A <a@example.org>",
    "Installed-Size: 10",
    "Depends: libc6 (>= 2.34)",
    "Section: libs",
    "Priority: optional",
    "Multi-Arch: same",
    "Homepage: https://example.org/",
    "Description: foo library",
    " Long text.",
    " .",
    " More.",
    "",
  ].join("\n");
  const pkg = {
    name: "libfoo1",
    architecture: "amd64",
    multiArch: "same",
    controlText: control,
    paths: ["usr", "usr/lib", "usr/lib/libfoo.so.1", "etc", "etc/foo.conf"],
    md5sums: "0123456789abcdef0123456789abcdef  usr/lib/libfoo.so.1\n",
    conffiles: [{ path: "etc/foo.conf", md5: "fedcba9876543210fedcba9876543210" }],
  };
  test("status paragraph: real fields in dpkg's order, Status and Conffiles added", () => {
    assert.equal(
      statusParagraph(pkg),
      [
        "Package: libfoo1",
        "Status: install ok installed",
        "Priority: optional",
        "Section: libs",
        "Installed-Size: 10",
        "Maintainer: A <a@example.org>",
        "Architecture: amd64",
        "Multi-Arch: same",
        "Source: foo (1.2-3)",
        "Version: 1.2-3+b1",
        "Depends: libc6 (>= 2.34)",
        "Conffiles:",
        " /etc/foo.conf fedcba9876543210fedcba9876543210",
        "Description: foo library",
        " Long text.",
        " .",
        " More.",
        "Homepage: https://example.org/",
      ].join("\n"),
    );
  });
  test("info files use <pkg>:<arch> for Multi-Arch: same and the format-1 marker", () => {
    assert.equal(infoName(pkg), "libfoo1:amd64");
    assert.equal(infoName({ name: "tzdata", architecture: "all", multiArch: "foreign" }), "tzdata");
    const db = dpkgDatabase([pkg, { ...pkg, name: "aaa", multiArch: undefined, conffiles: [] }]);
    const byPath = new Map(db.files.map((f) => [f.path, f.data]));
    assert.equal(byPath.get("var/lib/dpkg/info/format"), "1\n");
    assert.equal(
      byPath.get("var/lib/dpkg/info/libfoo1:amd64.list"),
      "/.\n/usr\n/usr/lib\n/usr/lib/libfoo.so.1\n/etc\n/etc/foo.conf\n",
    );
    assert.equal(byPath.get("var/lib/dpkg/info/libfoo1:amd64.conffiles"), "/etc/foo.conf\n");
    assert.ok(byPath.has("var/lib/dpkg/info/aaa.md5sums"));
    const status = byPath.get("var/lib/dpkg/status") ?? "";
    assert.ok(status.indexOf("Package: aaa") < status.indexOf("Package: libfoo1"), "sorted by name");
    assert.ok(status.endsWith("\n\n"));
  });
  test("md5sums filtered to installed paths", () => {
    const t =
      "0123456789abcdef0123456789abcdef  usr/bin/a\nfedcba9876543210fedcba9876543210  usr/share/doc/x/changelog.gz\n";
    assert.equal(
      filterMd5sums(t, (p) => p.startsWith("usr/bin/")),
      "0123456789abcdef0123456789abcdef  usr/bin/a\n",
    );
  });
});
