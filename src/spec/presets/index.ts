/**
 * Presets: the distroless-equivalent images as spec fragments plus their packages per suite
 * (suites.ts). `preset: NAME` (or `extends: NAME`) merges one under a spec; `shellfree build
 * --preset NAME` builds one alone. Every image also gets the generated files (passwd/group with
 * root, nobody, nonroot, os-release, nsswitch.conf, CA bundle, /tmp 1777), so presets only name
 * packages and defaults.
 */
import type { SpecFragment } from "../types.ts";
import { base } from "./base.ts";
import { cc } from "./cc.ts";
import { node } from "./node.ts";
import { python } from "./python.ts";
import { staticPreset } from "./static.ts";
import type { SuitePackages } from "./suites.ts";

export { PRESET_SUITES, type PresetSuite, type SuitePackages } from "./suites.ts";

export interface Preset {
  description: string;
  /** another preset this one adds to */
  extends?: string;
  /** the Debian packages it adds, per suite codename */
  packages: SuitePackages;
  /** everything else it sets */
  fragment: SpecFragment;
}

export const PRESETS: Record<string, Preset> = { static: staticPreset, base, cc, node, python };

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
