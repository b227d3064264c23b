/** A spec file with its `extends`/`preset` chain merged underneath it, checked, with defaults. */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { errnoText } from "../errors.ts";
import { SUITE_NAME } from "./check.ts";
import { SpecError } from "./errors.ts";
import { finishSpec } from "./finish.ts";
import { mergeFragments } from "./merge.ts";
import { parseSpecText } from "./parse.ts";
import { PRESETS, presetNames } from "./presets/index.ts";
import type { Spec, SpecFragment } from "./types.ts";

/** The largest spec file read (a real one is a few KiB; a bigger one is a mistake, not a spec). */
export const MAX_SPEC_BYTES = 1024 * 1024;

function isPresetRef(ref: string): boolean {
  return !ref.includes("/") && !/\.ya?ml$/.test(ref);
}

/**
 * Load a fragment with its `extends`/`preset` chain merged underneath it. `fromFiles` says
 * whether a spec file in the chain (not only a preset) sets the entrypoint and the healthcheck.
 */
function loadChain(
  file: string,
  seen: string[],
  presetsUsed: string[],
): { frag: SpecFragment; baseDir: string; fromFiles: { entrypoint: boolean; healthcheck: boolean } } {
  const abs = resolvePath(file);
  if (seen.includes(abs)) {
    throw new SpecError("E_SPEC", `${file}: extends loops back to itself (${[...seen, abs].join(" → ")})`);
  }
  let text: string;
  try {
    const size = statSync(abs).size;
    if (size > MAX_SPEC_BYTES) {
      throw new SpecError(
        "E_SPEC_FILE",
        `spec ${file} is ${(size / 1024 / 1024).toFixed(1)} MiB; a spec file may be at most 1 MiB`,
      );
    }
    text = readFileSync(abs, "utf8");
  } catch (e) {
    if (e instanceof SpecError) throw e;
    throw new SpecError("E_SPEC_FILE", `cannot read spec ${file}: ${errnoText(e)}`);
  }
  const baseDir = dirname(abs);
  const own = parseSpecText(text, file, baseDir);
  const fromFiles = {
    entrypoint: own.config?.entrypoint !== undefined,
    healthcheck: own.config?.healthcheck !== undefined,
  };
  let base: SpecFragment = {};
  if (own.preset) base = mergeFragments(base, presetFragment(own.preset, presetsUsed));
  if (own.extends) {
    if (isPresetRef(own.extends)) {
      if (!PRESETS[own.extends]) {
        throw new SpecError(
          "E_SPEC",
          `${file}: extends: unknown preset "${own.extends}" (known: ${presetNames().join(", ")}; a spec file must end in .yaml)`,
        );
      }
      base = mergeFragments(base, presetFragment(own.extends, presetsUsed));
    } else {
      const parentPath = isAbsolute(own.extends) ? own.extends : resolvePath(baseDir, own.extends);
      const parent = loadChain(parentPath, [...seen, abs], presetsUsed);
      base = mergeFragments(base, parent.frag);
      fromFiles.entrypoint ||= parent.fromFiles.entrypoint;
      fromFiles.healthcheck ||= parent.fromFiles.healthcheck;
    }
  }
  return { frag: mergeFragments(base, own), baseDir, fromFiles };
}

/** A preset's fragment with the presets it extends merged underneath; `used` collects their names. */
function presetFragment(name: string, used: string[]): SpecFragment {
  const preset = PRESETS[name];
  if (!preset)
    throw new SpecError("E_PRESET", `unknown preset "${name}" (known: ${presetNames().join(", ")})`);
  let frag: SpecFragment = {};
  if (preset.extends) frag = presetFragment(preset.extends, used);
  if (!used.includes(name)) used.push(name);
  return mergeFragments(frag, {
    ...preset.fragment,
    presetPackages: [{ preset: name, packages: preset.packages }],
  });
}

/**
 * Load a spec file with its extends/preset chain, checked and with defaults. A preset's
 * entrypoint and healthcheck (e.g. the node preset's `node`) are for images without an init:
 * with `init:`, only a spec file's own win over the init's (the builder's defaults).
 */
export function loadSpec(file: string): Spec {
  const presets: string[] = [];
  const { frag, baseDir, fromFiles } = loadChain(file, [], presets);
  if (frag.init !== undefined && frag.config) {
    if (!fromFiles.entrypoint) frag.config.entrypoint = undefined;
    if (!fromFiles.healthcheck) frag.config.healthcheck = undefined;
  }
  return finishSpec(frag, file, baseDir, presets);
}

/** The spec of a preset on its own (`shellfree build --preset NAME`). */
export function presetSpec(name: string, overrides: { architectures?: string[]; suite?: string } = {}): Spec {
  const presets: string[] = [];
  const frag = presetFragment(name, presets);
  if (overrides.architectures) frag.architectures = overrides.architectures;
  if (overrides.suite) {
    if (!SUITE_NAME.test(overrides.suite)) {
      throw new SpecError("E_SPEC", `--suite: invalid suite name ${JSON.stringify(overrides.suite)}`);
    }
    frag.suite = overrides.suite;
  }
  return finishSpec(frag, `preset:${name}`, process.cwd(), presets);
}
