/**
 * `files[]`: src (a local file or directory, relative to the spec; it must exist), dest (an
 * absolute path in the image), mode, file-mode, dir-mode (types.ts FileSpec says what each
 * does), uid, gid or owner ("UID[:GID]").
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { absPath, int, list, MAX_ID, mapOf, mode, type SpecDoc, str, type YamlNode } from "../check.ts";
import { SpecError } from "../errors.ts";
import type { FileSpec } from "../types.ts";

export function parseFiles(doc: SpecDoc, node: YamlNode, field: string, baseDir: string): FileSpec[] {
  return list(doc, node, field, (item, at) => parseFile(doc, item, at, baseDir));
}

function parseFile(doc: SpecDoc, node: YamlNode, field: string, baseDir: string): FileSpec {
  let src: string | undefined;
  let srcNode: YamlNode;
  let dest: string | undefined;
  let anyMode: number | undefined;
  let fileMode: number | undefined;
  let dirMode: number | undefined;
  let modeNode: YamlNode;
  let uid = 0;
  let gid = 0;
  mapOf(doc, node, field, {
    src: (value, at) => {
      src = str(doc, value, at);
      srcNode = value;
    },
    dest: (value, at) => {
      dest = absPath(doc, value, at);
    },
    mode: (value, at) => {
      anyMode = mode(doc, value, at);
      modeNode = value;
    },
    "file-mode": (value, at) => {
      fileMode = mode(doc, value, at);
    },
    "dir-mode": (value, at) => {
      dirMode = mode(doc, value, at);
    },
    uid: (value, at) => {
      uid = int(doc, value, at, 0, MAX_ID);
    },
    gid: (value, at) => {
      gid = int(doc, value, at, 0, MAX_ID);
    },
    owner: (value, at) => {
      const owner = str(doc, value, at, /^\d+(:\d+)?$/, "UID:GID (numbers)");
      const [ownerUid, ownerGid] = owner.split(":");
      uid = Number(ownerUid);
      gid = Number(ownerGid ?? ownerUid);
    },
  });
  if (src === undefined) doc.fail(node, field, "needs src (a local file or directory, relative to the spec)");
  if (dest === undefined) doc.fail(node, field, "needs dest (an absolute path in the image)");
  if (anyMode !== undefined && fileMode !== undefined) {
    doc.fail(
      modeNode,
      `${field}.mode`,
      "give mode (files keep their x bits) or file-mode (exactly this for every file), not both",
    );
  }
  const abs = isAbsolute(src) ? src : resolvePath(baseDir, src);
  const where = `${doc.file}:${doc.line(srcNode)}`;
  try {
    statSync(abs);
  } catch {
    throw new SpecError(
      "E_FILE_MISSING",
      `${where}: ${field}.src: local file ${JSON.stringify(src)} does not exist (looked for ${abs})`,
    );
  }
  return { src: abs, dest, mode: anyMode, fileMode, dirMode, uid, gid, where };
}
