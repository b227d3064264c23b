/**
 * Builds small wheels in the test (no package index is reachable from these machines) and
 * serves them from a PEP 503/691 simple index on 127.0.0.1.
 *
 *   const w = buildWheel({ name: "sfdemo", version: "1.0", tag: "py3-none-any", files: {...} });
 *   const idx = await serveIndex([w], { format: "json" });   // idx.url, idx.requests, idx.stop()
 *
 * `pureWheel()` (a py3-none-any package with a console script, a `.data` scripts/data/headers
 * tree) and `extensionWheel(machine, so)` (tagged cp313-cp313-manylinux_2_17_M.manylinux2014_M)
 * are the two wheels the tests use.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Zippable, zipSync } from "fflate";

export interface WheelFileSpec {
  data: string | Uint8Array;
  executable?: boolean;
}

export interface BuildWheelOptions {
  name: string;
  version: string;
  /** the tag part of the file name, e.g. "py3-none-any" or "cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64" */
  tag: string;
  build?: string;
  /** files at the wheel root (package code) */
  files?: Record<string, string | Uint8Array | WheelFileSpec>;
  /** files under {name}-{version}.data/<scheme>/ */
  data?: Partial<
    Record<"purelib" | "platlib" | "scripts" | "headers" | "data", Record<string, string | Uint8Array>>
  >;
  /** entry_points.txt content */
  entryPoints?: string;
  rootIsPurelib?: boolean;
  wheelVersion?: string;
  /** extra METADATA header lines */
  metadata?: string[];
  /** override METADATA Name/Version (for bad-wheel tests) */
  metadataName?: string;
  metadataVersion?: string;
  /** change RECORD rows after computing them (for bad-wheel tests) */
  tamperRecord?: (rows: string[][]) => string[][];
  /** raw zip entries added after RECORD is computed (not listed in it), with optional Unix mode */
  rawEntries?: Array<{ name: string; data: string | Uint8Array; mode?: number }>;
}

export interface BuiltWheel {
  filename: string;
  bytes: Uint8Array;
  sha256: string;
}

const enc = (d: string | Uint8Array) => (typeof d === "string" ? new TextEncoder().encode(d) : d);

function recordHash(d: Uint8Array): string {
  return `sha256=${createHash("sha256").update(d).digest("base64url")}`;
}

/** Build a wheel as `wheel`/`uv build` would lay it out, RECORD included. */
export function buildWheel(o: BuildWheelOptions): BuiltWheel {
  const dist = o.name.replace(/[-_.]+/g, "_");
  const info = `${dist}-${o.version}.dist-info`;
  const dataDir = `${dist}-${o.version}.data`;
  const entries: Array<{ name: string; data: Uint8Array; mode: number }> = [];
  for (const [p, v] of Object.entries(o.files ?? {})) {
    const spec = typeof v === "string" || v instanceof Uint8Array ? { data: v } : v;
    entries.push({ name: p, data: enc(spec.data), mode: spec.executable ? 0o755 : 0o644 });
  }
  for (const [scheme, files] of Object.entries(o.data ?? {})) {
    for (const [p, v] of Object.entries(files ?? {})) {
      entries.push({
        name: `${dataDir}/${scheme}/${p}`,
        data: enc(v),
        mode: scheme === "scripts" ? 0o755 : 0o644,
      });
    }
  }
  const meta = [
    "Metadata-Version: 2.4",
    `Name: ${o.metadataName ?? o.name}`,
    `Version: ${o.metadataVersion ?? o.version}`,
    ...(o.metadata ?? []),
    "",
    "A test package built by shellfree's tests.",
    "",
  ].join("\n");
  entries.push({ name: `${info}/METADATA`, data: enc(meta), mode: 0o644 });
  entries.push({
    name: `${info}/WHEEL`,
    data: enc(
      `Wheel-Version: ${o.wheelVersion ?? "1.0"}\nGenerator: shellfree-tests\nRoot-Is-Purelib: ${o.rootIsPurelib ?? true}\n${expandTags(
        o.tag.split("-"),
      )
        .map((t) => `Tag: ${t}`)
        .join("\n")}\n`,
    ),
    mode: 0o644,
  });
  if (o.entryPoints)
    entries.push({ name: `${info}/entry_points.txt`, data: enc(o.entryPoints), mode: 0o644 });
  let rows = entries.map((e) => [e.name, recordHash(e.data), String(e.data.length)]);
  rows.push([`${info}/RECORD`, "", ""]);
  if (o.tamperRecord) rows = o.tamperRecord(rows);
  const record = rows.map((r) => r.join(",")).join("\n") + "\n";
  entries.push({ name: `${info}/RECORD`, data: enc(record), mode: 0o644 });
  for (const r of o.rawEntries ?? [])
    entries.push({ name: r.name, data: enc(r.data), mode: r.mode ?? 0o644 });
  const zippable: Zippable = {};
  for (const e of entries) {
    zippable[e.name] = [
      e.data,
      {
        os: 3,
        attrs: ((e.mode & 0o170000 ? e.mode : 0o100000 | e.mode) << 16) >>> 0,
        mtime: new Date("2024-01-01T00:00:00Z"),
      },
    ];
  }
  const bytes = zipSync(zippable, { level: 6 });
  const filename = `${dist}-${o.version}${o.build ? `-${o.build}` : ""}-${o.tag}.whl`;
  return { filename, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function expandTags(parts: string[]): string[] {
  const [py, abi, plat] = parts;
  const out: string[] = [];
  for (const a of py.split("."))
    for (const b of abi.split(".")) for (const c of plat.split(".")) out.push(`${a}-${b}-${c}`);
  return out;
}

/** The pure wheel: sfdemo 1.0, py3-none-any, a console script, `.data` scripts, data and headers. */
export function pureWheel(version = "1.0"): BuiltWheel {
  return buildWheel({
    name: "sfdemo",
    version,
    tag: "py3-none-any",
    files: {
      "sfdemo/__init__.py": `VERSION = "${version}"\n\ndef hello():\n    return "hello from sfdemo"\n`,
      "sfdemo/cli.py":
        'import sys\n\ndef main():\n    print("sfdemo cli", " ".join(sys.argv[1:]))\n    return 0\n',
    },
    data: {
      scripts: { "sfdemo-tool": "#!python\nimport sfdemo\nprint(sfdemo.hello())\n" },
      data: { "share/sfdemo/readme.txt": "sfdemo data file\n" },
      headers: { "sfdemo.h": "#define SFDEMO 1\n" },
    },
    entryPoints: "[console_scripts]\nsfdemo = sfdemo.cli:main\n\n[other.group]\nignored = x:y\n",
    metadata: [
      "Summary: shellfree test package",
      "License-Expression: MIT",
      "Home-page: http://127.0.0.1/sfdemo",
    ],
  });
}

/**
 * The extension wheel: sfext 2.0 for `machine` (x86_64, aarch64), with `so` as
 * sfext/_speed.cpython-313-<machine>-linux-gnu.so (a real extension module, or any bytes when
 * it is only installed, never imported).
 */
export function extensionWheel(machine: string, so: Uint8Array, soName = "_speed"): BuiltWheel {
  return buildWheel({
    name: "sfext",
    version: "2.0",
    tag: `cp313-cp313-manylinux_2_17_${machine}.manylinux2014_${machine}`,
    rootIsPurelib: false,
    files: {
      "sfext/__init__.py": `from . import ${soName}\n`,
      [`sfext/${soName}.cpython-313-${machine}-linux-gnu.so`]: { data: so, executable: true },
    },
    metadata: [
      "Summary: shellfree test extension",
      "License: Apache-2.0",
      "Classifier: License :: OSI Approved :: Apache Software License",
    ],
  });
}

export interface IndexFile {
  filename: string;
  bytes: Uint8Array;
  /** the sha256 the index states (default: the bytes' own); null: no hash fragment */
  statedSha256?: string | null;
}

export interface ServedIndex {
  /** base URL of the simple index ("http://127.0.0.1:PORT/simple") */
  url: string;
  /** every request path, in order */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Serve `files` as a simple index on 127.0.0.1: `/simple/<project>/` (PEP 691 JSON when
 * `format` is "json" and the client accepts it, else PEP 503 HTML) and `/files/<filename>`.
 * `failFirst` answers the first N file downloads with 503 (retries).
 */
export async function serveIndex(
  files: IndexFile[],
  opts: { format?: "html" | "json"; failFirst?: number; auth?: { user: string; password: string } } = {},
): Promise<ServedIndex> {
  const requests: string[] = [];
  let failures = opts.failFirst ?? 0;
  const byProject = new Map<string, IndexFile[]>();
  for (const f of files) {
    const project = f.filename
      .split("-")[0]
      .replace(/[-_.]+/g, "-")
      .toLowerCase();
    byProject.set(project, [...(byProject.get(project) ?? []), f]);
  }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? "");
    if (opts.auth) {
      const want = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString("base64")}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="index"' }).end();
        return;
      }
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const fileMatch = /^\/files\/([^/]+)$/.exec(url.pathname);
    if (fileMatch) {
      const f = files.find((x) => x.filename === decodeURIComponent(fileMatch[1]));
      if (!f) return void res.writeHead(404).end();
      if (failures > 0) {
        failures--;
        return void res.writeHead(503).end("try again");
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": f.bytes.length });
      res.end(Buffer.from(f.bytes));
      return;
    }
    const proj = /^\/simple\/([^/]+)\/$/.exec(url.pathname);
    const list = proj ? byProject.get(proj[1]) : undefined;
    if (!list) return void res.writeHead(404).end("not found");
    const stated = (f: IndexFile) =>
      f.statedSha256 === null
        ? undefined
        : (f.statedSha256 ?? createHash("sha256").update(f.bytes).digest("hex"));
    const wantsJson =
      opts.format === "json" && (req.headers.accept ?? "").includes("application/vnd.pypi.simple.v1+json");
    if (wantsJson) {
      const body = JSON.stringify({
        meta: { "api-version": "1.1" },
        name: proj![1],
        files: list.map((f) => ({
          filename: f.filename,
          url: `../../files/${encodeURIComponent(f.filename)}`,
          hashes: stated(f) ? { sha256: stated(f) } : {},
          "requires-python": ">=3.9",
        })),
      });
      res.writeHead(200, { "content-type": "application/vnd.pypi.simple.v1+json" }).end(body);
      return;
    }
    const links = list
      .map((f) => {
        const h = stated(f);
        return `<a href="/files/${encodeURIComponent(f.filename)}${h ? `#sha256=${h}` : ""}" data-requires-python="&gt;=3.9">${f.filename}</a><br/>`;
      })
      .join("\n");
    res
      .writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(`<!DOCTYPE html><html><body><h1>Links for ${proj![1]}</h1>\n${links}\n</body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/simple`,
    requests,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
