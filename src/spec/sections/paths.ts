/**
 * `paths[]`: path, type (directory — the default —, symlink or file), uid, gid, mode, target
 * (symlinks only), content (files only), writable (directories only: needed writable at run
 * time, recorded in the image's `dev.shellfree.writable` label).
 */
import { isScalar } from "yaml";
import { absPath, bool, int, list, MAX_ID, mapOf, mode, type SpecDoc, str, type YamlNode } from "../check.ts";
import type { PathSpec } from "../types.ts";

export function parsePaths(doc: SpecDoc, node: YamlNode, field: string): PathSpec[] {
  return list(doc, node, field, (item, at) => parsePath(doc, item, at));
}

function parsePath(doc: SpecDoc, node: YamlNode, field: string): PathSpec {
  const raw: {
    path?: string;
    type?: string;
    uid?: number;
    gid?: number;
    mode?: number;
    target?: string;
    content?: string;
    writable?: boolean;
  } = {};
  const nodes: Record<string, YamlNode> = {};
  mapOf(doc, node, field, {
    path: (value, at) => {
      raw.path = absPath(doc, value, at);
      nodes.path = value;
    },
    type: (value, at) => {
      raw.type = str(doc, value, at, /^(directory|symlink|file)$/, "directory, symlink or file");
    },
    uid: (value, at) => {
      raw.uid = int(doc, value, at, 0, MAX_ID);
    },
    gid: (value, at) => {
      raw.gid = int(doc, value, at, 0, MAX_ID);
    },
    mode: (value, at) => {
      raw.mode = mode(doc, value, at);
    },
    target: (value, at) => {
      raw.target = str(doc, value, at);
      nodes.target = value;
    },
    writable: (value, at) => {
      raw.writable = bool(doc, value, at);
      nodes.writable = value;
    },
    content: (value, at) => {
      if (!isScalar(value) || typeof value.value !== "string") doc.fail(value, at, "must be a string");
      raw.content = value.value as string;
      nodes.content = value;
    },
  });
  if (raw.path === undefined) doc.fail(node, field, "needs a path");
  if (raw.path === "/") doc.fail(nodes.path, `${field}.path`, "must not be /");
  const type = raw.type ?? "directory";
  if (raw.writable !== undefined && type !== "directory")
    doc.fail(nodes.writable, `${field}.writable`, "only a directory can be writable");
  if (raw.writable && raw.path.includes(","))
    doc.fail(
      nodes.path,
      `${field}.path`,
      "a writable path must not contain a comma (the label lists them comma-separated)",
    );
  const uid = raw.uid ?? 0;
  const gid = raw.gid ?? 0;
  if (type === "symlink") {
    if (raw.target === undefined) doc.fail(node, field, "a symlink needs a target");
    if (raw.mode !== undefined) doc.fail(node, `${field}.mode`, "a symlink has no mode");
    if (raw.content !== undefined) doc.fail(nodes.content, `${field}.content`, "only a file has content");
    return { path: raw.path, type, target: raw.target, uid, gid };
  }
  if (raw.target !== undefined) doc.fail(nodes.target, `${field}.target`, "only a symlink has a target");
  if (type === "directory") {
    if (raw.content !== undefined) doc.fail(nodes.content, `${field}.content`, "only a file has content");
    return {
      path: raw.path,
      type,
      uid,
      gid,
      mode: raw.mode ?? 0o755,
      ...(raw.writable ? { writable: true } : {}),
    };
  }
  return { path: raw.path, type: "file", content: raw.content ?? "", uid, gid, mode: raw.mode ?? 0o644 };
}
