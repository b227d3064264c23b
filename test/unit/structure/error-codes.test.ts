/**
 * Every error code shellfree uses is listed, once, where its error class is defined: the comment
 * of each subsystem's errors.ts (and src/errors.ts for the shared helpers and the CLI). A code is
 * "used" by a subsystem when it appears as a string in its sources (other than compared with
 * and not given to another subsystem's error class), or when anything constructs that
 * subsystem's error class with it.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../../helpers/cli.ts";

const SRC = join(ROOT, "src");
const CODE = /"(E_[A-Z0-9_]+)"/g;
const COMPARED = /[!=]==?\s*"E_[A-Z0-9_]+"/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Code strings in `text`, not counting those only compared with or given to an error class other than `ownClass`. */
function codesIn(text: string, ownClass?: string): Set<string> {
  const others = /new (\w+Error)\(\s*"E_[A-Z0-9_]+"/g;
  const own = text
    .replace(COMPARED, "")
    .replace(others, (m, cls: string) => (ownClass && cls !== ownClass ? "" : m));
  return new Set([...own.matchAll(CODE)].map((m) => m[1]));
}

/** The codes an errors.ts comment lists. */
function documented(errorsFile: string): Set<string> {
  const text = readFileSync(errorsFile, "utf8");
  const comment = text.slice(text.indexOf("/**"), text.indexOf("*/"));
  return new Set(comment.match(/\bE_[A-Z0-9_]+/g) ?? []);
}

/** Codes constructed with `className` anywhere in src/. */
function constructedWith(className: string): Set<string> {
  const re = new RegExp(`new ${className}\\(\\s*"(E_[A-Z0-9_]+)"`, "g");
  const out = new Set<string>();
  for (const f of files(SRC)) for (const m of readFileSync(f, "utf8").matchAll(re)) out.add(m[1]);
  return out;
}

const sorted = (s: Set<string>) => [...s].sort();

test("each subsystem's errors.ts lists exactly the codes it uses", () => {
  const subsystems = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== "init")
    .map((e) => e.name)
    .filter((name) => readdirSync(join(SRC, name)).includes("errors.ts"));
  assert.ok(subsystems.length >= 6, subsystems.join(" "));
  const shared = documented(join(SRC, "errors.ts"));
  for (const name of subsystems) {
    const errorsFile = join(SRC, name, "errors.ts");
    const className = /export class (\w+) extends ShellfreeError/.exec(readFileSync(errorsFile, "utf8"))?.[1];
    assert.ok(className, `${name}/errors.ts defines an error class`);
    const used = constructedWith(className);
    for (const f of files(join(SRC, name)))
      if (f !== errorsFile) for (const c of codesIn(readFileSync(f, "utf8"), className)) used.add(c);
    const listed = documented(errorsFile);
    assert.deepEqual(
      sorted(used).filter((c) => !listed.has(c)),
      [],
      `${name}/errors.ts does not list codes ${name} uses`,
    );
    // besides its own, a table may mention the shared helpers' codes that pass through it
    assert.deepEqual(
      sorted(listed).filter((c) => !used.has(c) && !shared.has(c)),
      [],
      `${name}/errors.ts lists codes nothing uses`,
    );
  }
});

test("src/errors.ts lists the shared helpers' and the CLI's own codes; every code is listed somewhere", () => {
  const own = new Set([...files(join(SRC, "util")).flatMap((f) => [...codesIn(readFileSync(f, "utf8"))])]);
  for (const c of constructedWith("ShellfreeError")) own.add(c);
  for (const c of constructedWith("InitCliError")) own.add(c);
  assert.deepEqual(sorted(documented(join(SRC, "errors.ts"))), sorted(own));
  const everywhere = new Set<string>();
  for (const f of files(SRC))
    if (!f.includes("/src/init/")) for (const c of codesIn(readFileSync(f, "utf8"))) everywhere.add(c);
  const listed = new Set<string>();
  for (const f of files(SRC)) if (f.endsWith("errors.ts")) for (const c of documented(f)) listed.add(c);
  assert.deepEqual(
    sorted(everywhere).filter((c) => !listed.has(c)),
    [],
  );
});
