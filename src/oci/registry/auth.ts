/**
 * Registry authentication: WWW-Authenticate challenges, and the secrets a client must never print
 * (every error that leaves the registry client goes through `Secrets.redact`). Where credentials
 * come from is credentials.ts.
 */
import { addSecret } from "../../util/secrets.ts";
import type { Credentials } from "./credentials.ts";

export {
  authFilePaths,
  type Credentials,
  credsFromAuthConfig,
  normalizeAuthKey,
  normalizeRegistry,
  parseCreds,
  resolveCredentials,
} from "./credentials.ts";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse a WWW-Authenticate header value (RFC 7235): one or more challenges, each a scheme and
 * comma-separated `key=value` / `key="quoted value"` parameters.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < s.length) {
    skipWs();
    if (s[i] === ",") {
      i++;
      continue;
    }
    const start = i;
    const t = token();
    if (t === "") {
      i++; // skip garbage
      continue;
    }
    skipWs();
    if (s[i] === "=" && current) {
      i++;
      skipWs();
      let value = "";
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const vs = i;
        while (i < s.length && s[i] !== "," && s[i] !== " ") i++;
        value = s.slice(vs, i);
      }
      current.params[t.toLowerCase()] = value;
    } else {
      // a new challenge: the scheme; token68 values after it are ignored
      i = start + t.length;
      current = { scheme: t.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** Secrets known to a client; `redact` removes every one of them from a text. */
export class Secrets {
  private readonly values = new Set<string>();
  add(v: string | undefined): void {
    if (v && v.length >= 3) {
      this.values.add(v);
      addSecret(v); // and from anything this process prints
    }
  }
  addCreds(c: Credentials | undefined): void {
    if (!c) return;
    this.add(c.password);
    this.add(Buffer.from(`${c.username}:${c.password}`).toString("base64"));
    this.add(encodeURIComponent(c.password));
    this.add(c.identityToken);
    if (c.identityToken) this.add(encodeURIComponent(c.identityToken));
  }
  redact(text: string): string {
    let out = text;
    // longest first, so a secret containing another is removed whole
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
    return out;
  }
}
