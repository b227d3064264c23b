/**
 * Project names (PEP 503 normalisation, PEP 685 for extras) and the validity rule of PEP 508.
 */

/** PEP 503: lower case, every run of `-`, `_` and `.` becomes one `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** A PEP 508 project name: ASCII letters and digits, with `.`, `_`, `-` inside only. */
export function isValidName(name: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}

/** The form a wheel filename uses for a project name: runs of `-_.` become `_` (PEP 427/491). */
export function wheelNameComponent(name: string): string {
  return name.replace(/[-_.]+/g, "_");
}
