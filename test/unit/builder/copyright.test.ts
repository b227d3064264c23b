import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isMachineReadableCopyright,
  KNOWN_SPDX_IDS,
  licensesFromCopyright,
  parseCopyright,
  sbomPackageFromDeb,
  spdxForShortName,
} from "../../../src/builder/copyright.ts";
import { spdxLicenseIdEnum } from "./sbom-validate.ts";

const HEADER =
  "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\n";

describe("licensesFromCopyright: DEP-5 files", () => {
  test("zlib-like: one Files paragraph + standalone License text", () => {
    const text = `${HEADER}Files: *
Copyright: 1995-2024 Jean-loup Gailly and Mark Adler
License: Zlib

Files: debian/*
Copyright: 2006-2024 Mark Brown
License: Zlib

License: Zlib
 This software is provided 'as-is', without any express or implied
 warranty.  In no event will the authors be held liable for any damages
 .
 Permission is granted to anyone to use this software for any purpose,
`;
    assert.deepEqual(licensesFromCopyright(text), ["Zlib"]);
    assert.deepEqual(parseCopyright(text).copyrights, [
      "1995-2024 Jean-loup Gailly and Mark Adler",
      "2006-2024 Mark Brown",
    ]);
  });

  test("ca-certificates-like: GPL-2+ and MPL-2.0", () => {
    const text = `${HEADER}Files: *
Copyright: 2003 Fumitoshi UKAI <ukai@debian.or.jp>
           2009 Philipp Kern <pkern@debian.org>
License: GPL-2+

Files: mozilla/*
Copyright: Mozilla Foundation
License: MPL-2.0

License: GPL-2+
 This program is free software; you can redistribute it and/or modify
`;
    assert.deepEqual(licensesFromCopyright(text), ["GPL-2.0-or-later", "MPL-2.0"]);
    assert.equal(parseCopyright(text).copyrights.length, 3);
  });

  test("libc6-like: or, and, exceptions, local names, public domain", () => {
    const text = `${HEADER}Files: *
Copyright: 1991-2025 Free Software Foundation, Inc.
License: LGPL-2.1+

Files: sysdeps/x/*
Copyright: 1993 Carnegie
License: BSD-3-clause-Berkeley and DEC and ISC and LGPL-2.1+

Files: a/*
Copyright: 2000 X
License: BSD-2-clause or GPL-2

Files: b/*
Copyright: 2001 Y
License: GPL-2 with Linux-syscall-note exception

Files: c/*
Copyright: none
License: public-domain

Files: d/*
Copyright: 2002 Z
License: GPL-3+ with Bison exception

Files: e/*
Copyright: 2003 Q
License: GPL-2+-with-link-exception
`;
    assert.deepEqual(licensesFromCopyright(text), [
      "BSD-2-Clause OR GPL-2.0-only",
      "GPL-2.0-only WITH Linux-syscall-note",
      "GPL-3.0-or-later WITH Bison-exception-2.2",
      "ISC",
      "LGPL-2.1-or-later",
      "LicenseRef-BSD-3-clause-Berkeley",
      "LicenseRef-DEC",
      "LicenseRef-GPL-2-plus-with-link-exception",
      "LicenseRef-public-domain",
    ]);
  });

  test("precedence: 'A or B, and C' and 'A and B or C'", () => {
    const one = (l: string) => licensesFromCopyright(`${HEADER}Files: *\nCopyright: x\nLicense: ${l}\n`);
    assert.deepEqual(one("GPL-2+ or Artistic, and BSD-3-clause"), [
      "BSD-3-Clause",
      "GPL-2.0-or-later OR Artistic-1.0",
    ]);
    assert.deepEqual(one("MIT and GPL-2 or LGPL-2.1+"), ["(MIT AND GPL-2.0-only) OR LGPL-2.1-or-later"]);
    assert.deepEqual(one("MPL-1.1 or GPL-2+ or LGPL-2.1+"), [
      "MPL-1.1 OR GPL-2.0-or-later OR LGPL-2.1-or-later",
    ]);
    assert.deepEqual(one("Expat, and ISC"), ["ISC", "MIT"]);
    assert.deepEqual(one("GPL-2+ with Autoconf exception"), ["GPL-2.0-or-later WITH Autoconf-exception-2.0"]);
    assert.deepEqual(one("GPL-3+ with autoconf exception"), ["GPL-3.0-or-later WITH Autoconf-exception-3.0"]);
    assert.deepEqual(one("GPL-2+ with OpenSSL exception"), ["LicenseRef-GPL-2-plus-with-OpenSSL-exception"]);
    assert.deepEqual(one("Perl"), ["Artistic-1.0-Perl OR GPL-1.0-or-later"]);
  });

  test("the header paragraph's License counts; case does not matter", () => {
    const text =
      "Format: http://dep.debian.net/deps/dep5\nLicense: apache-2.0\n\nFiles: *\nCopyright: x\nLicense: EXPAT\n";
    assert.deepEqual(licensesFromCopyright(text), ["Apache-2.0", "MIT"]);
  });

  test("empty License first line and comment lines are ignored", () => {
    const text = `${HEADER}# a comment\nFiles: *\nCopyright: x\nLicense:\n text only\n`;
    assert.deepEqual(licensesFromCopyright(text), []);
    assert.equal(isMachineReadableCopyright(text), true);
  });
});

describe("licensesFromCopyright: other files", () => {
  test("a free-form copyright file gives []", () => {
    const text = `This package was debianized by Someone <x@example.invalid> on
Mon, 1 Jan 2001 00:00:00 +0000.

License: The main library is licensed under GNU Lesser General Public License
`;
    assert.equal(isMachineReadableCopyright(text), false);
    assert.deepEqual(licensesFromCopyright(text), []);
    assert.deepEqual(licensesFromCopyright(""), []);
  });
});

describe("short name mapping", () => {
  const cases: Array<[string, string]> = [
    ["GPL-2+", "GPL-2.0-or-later"],
    ["GPL-2", "GPL-2.0-only"],
    ["GPL-3.0+", "GPL-3.0-or-later"],
    ["GPLv3+", "GPL-3.0-or-later"],
    ["GPL", "GPL-1.0-or-later"],
    ["LGPL-2+", "LGPL-2.0-or-later"],
    ["LGPL-2.1+", "LGPL-2.1-or-later"],
    ["LGPL-2.1", "LGPL-2.1-only"],
    ["LGPL-3+", "LGPL-3.0-or-later"],
    ["AGPL-3+", "AGPL-3.0-or-later"],
    ["GFDL-1.3+", "GFDL-1.3-or-later"],
    ["GFDL-NIV-1.3", "GFDL-1.3-no-invariants-only"],
    ["Expat", "MIT"],
    ["BSD-2-clause", "BSD-2-Clause"],
    ["BSD-3-clause", "BSD-3-Clause"],
    ["BSD-4-clause-UC", "BSD-4-Clause-UC"],
    ["Apache-2.0", "Apache-2.0"],
    ["zlib", "Zlib"],
    ["public-domain", "LicenseRef-public-domain"],
    ["CC0-1.0", "CC0-1.0"],
    ["MPL-2.0", "MPL-2.0"],
    ["OpenLDAP-2.8", "OLDAP-2.8"],
    ["Artistic", "Artistic-1.0"],
    ["curl", "curl"],
    ["GPL-4+", "LicenseRef-GPL-4-plus"],
    ["MIT-like", "LicenseRef-MIT-like"],
    ["BSD-tcp_wrappers", "LicenseRef-BSD-tcp-wrappers"],
    ["GPL-3.0-or-later-WITH-Autoconf-exception-macro", "GPL-3.0-or-later WITH Autoconf-exception-macro"],
    ["GPL-2+-with-link-exception", "LicenseRef-GPL-2-plus-with-link-exception"],
  ];
  for (const [deb, spdx] of cases) {
    test(`${deb} → ${spdx}`, () => assert.equal(spdxForShortName(deb), spdx));
  }

  test("every id this module can emit is on the SPDX list (per the CycloneDX schema's enum)", () => {
    const list = new Set(spdxLicenseIdEnum());
    assert.ok(list.size > 500);
    assert.deepEqual(
      KNOWN_SPDX_IDS.filter((id) => !list.has(id)),
      [],
    );
    for (const [, spdx] of cases) {
      for (const term of spdx.split(/ (?:OR|AND|WITH) /)) {
        if (!term.startsWith("LicenseRef-")) assert.ok(list.has(term), term);
      }
    }
  });
});

describe("sbomPackageFromDeb", () => {
  const fields = {
    Package: "libc6",
    Source: "glibc (2.41-12)",
    Version: "2.41-12+b1",
    Maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
    Homepage: "https://www.gnu.org/software/libc/libc.html",
    Description: "GNU C Library: Shared libraries\n Contains the standard libraries.",
  };
  const pkg = { name: "libc6", version: "2.41-12+b1", architecture: "amd64", sha256: "a".repeat(64), fields };

  test("source with a version (binNMU), maintainer, homepage, first description line, licenses", () => {
    const text = `${HEADER}Files: *\nCopyright: 1991 FSF\nLicense: LGPL-2.1+\n`;
    assert.deepEqual(sbomPackageFromDeb(pkg, text), {
      name: "libc6",
      version: "2.41-12+b1",
      arch: "amd64",
      source: "glibc",
      sourceVersion: "2.41-12",
      licenses: ["LGPL-2.1-or-later"],
      copyright: "1991 FSF",
      sha256: "a".repeat(64),
      maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
      homepage: "https://www.gnu.org/software/libc/libc.html",
      description: "GNU C Library: Shared libraries",
    });
  });

  test("no Source field: the package is its own source; no copyright file: no licenses", () => {
    const p = sbomPackageFromDeb({ ...pkg, name: "netbase", version: "6.5", fields: { Package: "netbase" } });
    assert.equal(p.source, "netbase");
    assert.equal(p.sourceVersion, "6.5");
    assert.deepEqual(p.licenses, []);
    assert.equal(p.copyright, undefined);
    assert.equal(p.maintainer, undefined);
  });
});
