/**
 * `python:` — Python dependencies that are not Debian packages, and the image's bytecode:
 *   requirements: FILE        a requirements file, every line pinned with == and --hash
 *   lock: FILE                or a uv.lock / pylock.toml (PEP 751)
 *   wheels: [DIR, ...]        local directories of wheels (alone: every wheel in them)
 *   index-url: URL            a PEP 503/691 simple index (default: PIP_INDEX_URL, pip's config)
 *   extras: [NAME, ...]       the project's extras (lock only)
 *   groups: [NAME, ...]       dependency groups (lock only)
 *   bytecode: checked-hash | unchecked-hash | false   (default checked-hash)
 * Files and directories are relative to the spec and must exist.
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { isScalar } from "yaml";
import { list, mapOf, type SpecDoc, str, type YamlNode } from "../check.ts";
import { SpecError } from "../errors.ts";
import type { BytecodeMode, PythonSpec } from "../types.ts";

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export function parsePython(doc: SpecDoc, node: YamlNode, field: string, baseDir: string): PythonSpec {
  const out: PythonSpec = { wheels: [], extras: [], where: `${doc.file}:${doc.line(node)}` };
  const localPath = (value: YamlNode, at: string, kind: "file" | "directory"): string => {
    const p = str(doc, value, at);
    const abs = isAbsolute(p) ? p : resolvePath(baseDir, p);
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(abs);
    } catch {
      st = undefined;
    }
    if (!st || (kind === "file" ? !st.isFile() : !st.isDirectory())) {
      throw new SpecError(
        "E_FILE_MISSING",
        `${doc.file}:${doc.line(value)}: ${at}: ${st ? `not a ${kind}` : "does not exist"}: ${JSON.stringify(p)} (looked for ${abs})`,
      );
    }
    return abs;
  };
  const names = (value: YamlNode, at: string) =>
    list(doc, value, at, (item, itemAt) => str(doc, item, itemAt, NAME, "a Python extra or group name"));
  mapOf(doc, node, field, {
    requirements: (value, at) => {
      out.requirements = localPath(value, at, "file");
    },
    lock: (value, at) => {
      const abs = localPath(value, at, "file");
      const base = abs.split("/").pop() as string;
      if (base !== "uv.lock" && !/^pylock\.([^.]+\.)?toml$/.test(base)) {
        doc.fail(value, at, `must be a uv.lock or a pylock.toml / pylock.NAME.toml (got ${base})`);
      }
      out.lock = abs;
    },
    wheels: (value, at) => {
      out.wheels = isScalar(value)
        ? [localPath(value, at, "directory")]
        : list(doc, value, at, (item, itemAt) => localPath(item, itemAt, "directory"));
    },
    "index-url": (value, at) => {
      const url = str(doc, value, at);
      let u: URL | undefined;
      try {
        u = new URL(url);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
        doc.fail(value, at, "must be an http:// or https:// URL of a simple index");
      }
      out.indexUrl = url;
    },
    extras: (value, at) => {
      out.extras = names(value, at);
    },
    groups: (value, at) => {
      out.groups = names(value, at);
    },
    bytecode: (value, at) => {
      if (isScalar(value) && value.value === false) out.bytecode = "none";
      else {
        const m = str(
          doc,
          value,
          at,
          /^(checked-hash|unchecked-hash)$/,
          "checked-hash, unchecked-hash or false",
        );
        out.bytecode = m as BytecodeMode;
      }
    },
  });
  if (out.requirements && out.lock) {
    doc.fail(node, field, "requirements and lock are alternatives: give one");
  }
  if ((out.extras.length || out.groups) && !out.lock) {
    doc.fail(node, field, "extras and groups select from a lock (uv.lock or pylock.toml)");
  }
  return out;
}
