/**
 * Image references. A registry reference always names its registry (shellfree has no default
 * registry): `registry:HOST[:PORT]/REPO[:TAG][@DIGEST]`, `docker://HOST[:PORT]/REPO...` or plain
 * `HOST[:PORT]/REPO...`. A layout reference is `oci:DIR[:TAG]`.
 */
import { parseDigest } from "../digest.ts";
import { OciError } from "../errors.ts";

export interface RegistryRef {
  /** host[:port] */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPO_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

function refError(ref: string, why: string): OciError {
  return new OciError("E_REGISTRY_REF", `invalid image reference "${ref}": ${why}`, {
    hint: "use HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (the registry host is required)",
    exitCode: 2,
  });
}

export function parseRegistryRef(ref: string): RegistryRef {
  let s = ref;
  if (s.startsWith("registry:")) s = s.slice("registry:".length);
  else if (s.startsWith("docker://")) s = s.slice("docker://".length);
  const slash = s.indexOf("/");
  if (slash <= 0) throw refError(ref, "no registry host");
  const registry = s.slice(0, slash);
  if (!HOST_RE.test(registry)) throw refError(ref, `"${registry}" is not a host[:port]`);
  if (
    !registry.includes(".") &&
    !registry.includes(":") &&
    registry !== "localhost" &&
    !registry.startsWith("[")
  ) {
    throw refError(ref, `"${registry}" does not look like a registry host (no "." or port)`);
  }
  let rest = s.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (e) {
      throw refError(ref, (e as Error).message);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw refError(ref, `"${tag}" is not a valid tag`);
  }
  if (rest === "") throw refError(ref, "no repository");
  if (rest.length > 255) throw refError(ref, "repository name longer than 255 characters");
  for (const c of rest.split("/")) {
    if (!REPO_COMPONENT.test(c)) {
      throw refError(ref, `"${rest}" is not a valid repository (lowercase letters, digits, . _ - and /)`);
    }
  }
  return { registry: registry.toLowerCase(), repository: rest, tag, digest };
}

export function formatRef(r: RegistryRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

export interface LayoutRef {
  dir: string;
  tag?: string;
}

/**
 * `oci:DIR[:TAG]`. The part after the last ':' is a tag when it is a valid tag and contains no
 * '/' (so `oci:/tmp/a:b` is DIR /tmp/a, TAG b; `oci:./x` is DIR ./x).
 */
export function parseLayoutRef(ref: string): LayoutRef {
  if (!ref.startsWith("oci:")) {
    throw new OciError("E_LAYOUT_REF", `"${ref}" is not an OCI layout reference`, {
      hint: "use oci:DIR or oci:DIR:TAG",
      exitCode: 2,
    });
  }
  const s = ref.slice(4);
  const colon = s.lastIndexOf(":");
  if (colon > 0) {
    const tag = s.slice(colon + 1);
    if (!tag.includes("/") && TAG_RE.test(tag)) return { dir: s.slice(0, colon), tag };
  }
  if (s === "") {
    throw new OciError("E_LAYOUT_REF", `"${ref}": no directory`, {
      hint: "use oci:DIR or oci:DIR:TAG",
      exitCode: 2,
    });
  }
  return { dir: s };
}
