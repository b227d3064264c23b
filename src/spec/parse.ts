/**
 * One spec document (a file or a preset's text) checked and turned into a fragment: no
 * `extends`/`preset` merging, no defaults (load.ts and finish.ts do those). Each section has its
 * parser in sections/; the top-level scalars are here.
 */
import { dirname, resolve as resolvePath } from "node:path";
import { isMap, LineCounter, type Node, parseDocument } from "yaml";
import { fieldLines, list, mapOf, SIMPLE_NAME, SpecDoc, SUITE_NAME, str, type YamlNode } from "./check.ts";
import { SpecError } from "./errors.ts";
import { PRESETS, presetNames } from "./presets/index.ts";
import { parseAccounts } from "./sections/accounts.ts";
import { parseAlternatives } from "./sections/alternatives.ts";
import { parseConfig } from "./sections/config.ts";
import { parseFiles } from "./sections/files.ts";
import { parseLayers } from "./sections/layers.ts";
import { parsePackages } from "./sections/packages.ts";
import { parsePaths } from "./sections/paths.ts";
import { parsePython } from "./sections/python.ts";
import { parseRuntime } from "./sections/runtime.ts";
import { parseSources } from "./sections/sources.ts";
import { KNOWN_ARCHES, type SpecFragment } from "./types.ts";

function parseFragment(doc: SpecDoc, root: YamlNode, baseDir: string): SpecFragment {
  const frag: SpecFragment = {};
  if (root === null || root === undefined) return frag;
  mapOf(doc, root, "", {
    name: (value, field) => {
      frag.name = str(doc, value, field, SIMPLE_NAME, "lower-case letters, digits, . _ -");
    },
    suite: (value, field) => {
      frag.suite = str(doc, value, field, SUITE_NAME, "a Debian suite name such as trixie");
    },
    architectures: (value, field) => {
      frag.architectures = list(doc, value, field, (item, at) => {
        const arch = str(doc, item, at);
        if (!(KNOWN_ARCHES as readonly string[]).includes(arch)) {
          doc.fail(item, at, `unknown architecture "${arch}" (known: ${KNOWN_ARCHES.join(", ")})`);
        }
        return arch;
      });
      if (frag.architectures.length === 0) doc.fail(value, field, "must name at least one architecture");
    },
    preset: (value, field) => {
      const preset = str(doc, value, field);
      if (!PRESETS[preset])
        doc.fail(value, field, `unknown preset "${preset}" (known: ${presetNames().join(", ")})`);
      frag.preset = preset;
    },
    extends: (value, field) => {
      frag.extends = str(doc, value, field);
    },
    packages: (value, field) => {
      frag.packages = parsePackages(doc, value, field);
    },
    sources: (value, field) => {
      frag.sources = parseSources(doc, value, field);
    },
    runtime: (value, field) => {
      frag.runtime = parseRuntime(doc, value, field);
    },
    accounts: (value, field) => {
      frag.accounts = parseAccounts(doc, value, field);
    },
    paths: (value, field) => {
      frag.paths = parsePaths(doc, value, field);
    },
    files: (value, field) => {
      frag.files = parseFiles(doc, value, field, baseDir);
    },
    init: (value, _field, keyNode) => {
      frag.init = value === null || value === undefined ? {} : (value as Node).toJSON();
      // checked by the builder (src/init's schema); its messages get the line of the field
      frag.initWhere = { file: doc.file, line: doc.line(keyNode), lines: fieldLines(doc, value) };
    },
    config: (value, field) => {
      frag.config = parseConfig(doc, value, field);
    },
    layers: (value, field) => {
      frag.layers = parseLayers(doc, value, field);
    },
    alternatives: (value, field) => {
      frag.alternatives = parseAlternatives(doc, value, field);
    },
    python: (value, field) => {
      frag.python = parsePython(doc, value, field, baseDir);
    },
  });
  return frag;
}

/** Parse and check one spec document (no extends/preset merging). */
export function parseSpecText(
  text: string,
  file: string,
  baseDir = dirname(resolvePath(file)),
): SpecFragment {
  const lines = new LineCounter();
  const yaml = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const doc = new SpecDoc(file, lines);
  const error = yaml.errors[0];
  if (error) {
    const line = error.linePos?.[0]?.line ?? lines.linePos(error.pos[0]).line;
    throw new SpecError("E_SPEC", `${file}:${line}: invalid YAML: ${error.message.split("\n")[0]}`);
  }
  if (yaml.contents !== null && !isMap(yaml.contents)) {
    doc.fail(yaml.contents as Node, "spec", "must be a mapping of keys such as name, packages, config");
  }
  return parseFragment(doc, yaml.contents as YamlNode, baseDir);
}
