/**
 * Every secret this process has seen (passwords from URLs and auth files, their Basic-auth
 * encodings, registry tokens), so that nothing it prints carries one: progress lines, errors,
 * --json output and stack traces pass through `redactSecrets`. Secrets never reach files in
 * the first place (URLs are stored without their credentials).
 */
const secrets = new Set<string>();

/** Remember `s` as a secret (ignored when shorter than 3 characters: too common to redact). */
export function addSecret(s: string | undefined): void {
  if (s && s.length >= 3) secrets.add(s);
}

/** `text` with every known secret replaced by `***` (the longest first). */
export function redactSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join("***");
  }
  return out;
}
