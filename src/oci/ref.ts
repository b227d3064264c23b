/**
 * Image references: one grammar for every command, shaped like skopeo's transports
 * (containers-transports(5)):
 *
 *   oci:PATH[:REF][@sha256:HEX]              an OCI image layout directory
 *   oci-archive:PATH[:REF][@sha256:HEX]      a tar of one
 *   docker-archive:PATH[:NAME[:TAG]]         a `docker save` tar (NAME[:TAG] picks one image)
 *   docker://HOST[:PORT]/REPO[:TAG][@sha256:HEX]   a registry (there is no default registry:
 *   registry:HOST[:PORT]/REPO[:TAG][@sha256:HEX]   the host is always named)
 *
 * A local PATH ends at the first colon after the transport, as in skopeo on Linux (where a
 * path cannot contain a colon): `oci:a:b:c` is the layout `a` with the reference `b:c`, and
 * `oci:/a:b/c` the layout `/a` with the reference `b/c`. REF is checked as skopeo checks OCI
 * layout references: components of letters and digits joined by one of `. _ - : @ +` (or
 * `--`), separated by `/`. A trailing `@sha256:HEX` (shellfree's addition) picks a manifest by
 * digest when reading. NAME[:TAG] of docker-archive is a repository name (lower case, optionally
 * with a registry host) with an optional tag. Registry references accept TAG and DIGEST
 * together; the repository follows the distribution spec's grammar.
 *
 * Which transports a command takes, and the error code a bad reference gets, is its `RefUse`:
 * reading an image (verify, test, inspect), writing one (build), an OCI layout (push's source,
 * pull's destination) or a registry (push's destination, pull's source: there a bare
 * HOST/REPO needs no transport).
 */
import { parseDigest } from "./digest.ts";
import { OciError } from "./errors.ts";

export type Transport = "oci" | "oci-archive" | "docker-archive" | "registry";

/** oci: and oci-archive: */
export interface LayoutImageRef {
  transport: "oci" | "oci-archive";
  path: string;
  /** the ref.name annotation in index.json */
  tag?: string;
  digest?: string;
}

export interface DockerArchiveImageRef {
  transport: "docker-archive";
  path: string;
  /** NAME[:TAG] (a RepoTags entry; ":latest" when no tag is given) */
  tag?: string;
}

export interface RegistryImageRef {
  transport: "registry";
  /** host[:port], lower case */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export type ImageRef = LayoutImageRef | DockerArchiveImageRef | RegistryImageRef;

/** What a command takes: the transports, and how a bad reference is reported. */
export interface RefUse {
  transports: readonly Transport[];
  /** "... is not <what>" */
  what: string;
  code: string;
  exitCode?: number;
  hint: string;
  /** a reference without a transport is a registry one (push's destination, pull's source) */
  bareIsRegistry?: boolean;
  /** a digest may pick the image (reading only) */
  digest?: boolean;
}

const READ_HINT =
  "use oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME[:TAG]] or docker://HOST[:PORT]/REPO[:TAG|@sha256:...]";
const REGISTRY_HINT = "use HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (the registry host is required)";

/** verify, test: any image, also from a registry */
export const READ_REF: RefUse = {
  transports: ["oci", "oci-archive", "docker-archive", "registry"],
  what: "an image reference",
  code: "E_TARGET",
  hint: READ_HINT,
  digest: true,
};
/** inspect and the other readers of local images */
export const LOCAL_READ_REF: RefUse = {
  transports: ["oci", "oci-archive", "docker-archive"],
  what: "a local image reference",
  code: "E_TARGET",
  hint: "use oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME[:TAG]]",
  digest: true,
};
/** build's --output */
export const OUTPUT_REF: RefUse = {
  transports: ["oci", "oci-archive", "docker-archive"],
  what: "an output shellfree can write",
  code: "E_TARGET",
  hint: "use oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME[:TAG]]",
};
/** push's source, pull's destination */
export const LAYOUT_REF: RefUse = {
  transports: ["oci"],
  what: "an OCI layout reference",
  code: "E_LAYOUT_REF",
  exitCode: 2,
  hint: "use oci:DIR or oci:DIR:TAG",
};
/** push's destination, pull's source */
export const REGISTRY_REF: RefUse = {
  transports: ["registry"],
  what: "a registry reference",
  code: "E_REGISTRY_REF",
  exitCode: 2,
  hint: REGISTRY_HINT,
  bareIsRegistry: true,
  digest: true,
};

/** skopeo's OCI layout reference (containers/image oci/internal) */
const LAYOUT_REF_NAME =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;
const TRAILING_DIGEST = /@(sha256:[0-9a-f]{64})$/;
/** a tag (distribution spec) */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

function refError(use: RefUse, message: string, hint = use.hint): OciError {
  return new OciError(use.code, message, { hint, exitCode: use.exitCode });
}

function registryError(ref: string, why: string): OciError {
  return new OciError("E_REGISTRY_REF", `invalid image reference "${ref}": ${why}`, {
    hint: REGISTRY_HINT,
    exitCode: 2,
  });
}

/**
 * A reference as it may be shown: credentials written before a registry host
 * (`user:password@host/repo`) become `***@host/repo`.
 */
export function redactRefCredentials(ref: string): string {
  if (/^(oci|oci-archive|docker-archive):/.test(ref)) return ref;
  return ref.replace(/^((?:docker:\/\/|registry:)?)[^/]*@([^/@]*\/)/, "$1***@$2");
}

const CREDS_HINT =
  "give registry credentials with --creds USER:PASSWORD, $SHELLFREE_REGISTRY_USER/$SHELLFREE_REGISTRY_PASSWORD or an auth file";

/** Parse `ref` for a command that takes `use` (READ_REF: any image). */
export function parseImageRef(ref: string, use: RefUse = READ_REF): ImageRef {
  if (typeof ref !== "string") throw refError(use, `"${String(ref)}" is not ${use.what}`);
  const shown = redactRefCredentials(ref);
  if (shown !== ref) {
    throw new OciError(use.code, `"${shown}": credentials do not belong in an image reference`, {
      hint: CREDS_HINT,
      exitCode: use.exitCode ?? 2,
    });
  }
  const colon = ref.indexOf(":");
  const name = colon > 0 ? ref.slice(0, colon) : "";
  let transport: Transport | undefined;
  let rest = ref.slice(colon + 1);
  if (name === "oci" || name === "oci-archive" || name === "docker-archive" || name === "registry") {
    transport = name;
  } else if (name === "docker" && rest.startsWith("//")) {
    transport = "registry";
    rest = rest.slice(2);
  } else if (use.bareIsRegistry) {
    transport = "registry";
    rest = ref;
  }
  if (!transport || !use.transports.includes(transport)) {
    throw refError(use, `"${ref}" is not ${use.what}`);
  }
  if (transport === "registry") return parseRegistryPart(ref, rest);
  let digest: string | undefined;
  const at = TRAILING_DIGEST.exec(rest);
  if (at && transport !== "docker-archive") {
    digest = at[1];
    rest = rest.slice(0, at.index);
  }
  const pathEnd = rest.indexOf(":");
  const path = pathEnd < 0 ? rest : rest.slice(0, pathEnd);
  const tag = pathEnd < 0 ? undefined : rest.slice(pathEnd + 1);
  if (path === "") throw refError(use, `"${ref}": no directory or file path`);
  if (digest !== undefined && !use.digest) {
    throw refError(use, `"${ref}": name the image by tag here, not by digest`);
  }
  if (transport === "docker-archive") {
    if (tag !== undefined) checkDockerName(use, ref, tag);
    return tag === undefined ? { transport, path } : { transport, path, tag };
  }
  if (tag !== undefined && !LAYOUT_REF_NAME.test(tag)) {
    throw refError(
      use,
      `"${ref}": invalid reference "${tag}" (letters and digits joined by . _ - : @ +, parts by /)`,
    );
  }
  const out: LayoutImageRef = { transport, path };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** docker-archive's NAME[:TAG]: [HOST[:PORT]/]REPO[:TAG] */
function checkDockerName(use: RefUse, ref: string, nameTag: string): void {
  const slash = nameTag.lastIndexOf("/");
  const colon = nameTag.lastIndexOf(":");
  const name = colon > slash ? nameTag.slice(0, colon) : nameTag;
  const tag = colon > slash ? nameTag.slice(colon + 1) : undefined;
  const parts = name.split("/");
  const host = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.shift() : undefined;
  const ok =
    (host === undefined || HOST.test(host)) &&
    parts.every((p) => REPO_COMPONENT.test(p)) &&
    (tag === undefined || DOCKER_TAG.test(tag));
  if (!ok) throw refError(use, `"${ref}": invalid image name "${nameTag}" (expected NAME[:TAG], lower case)`);
}

function parseRegistryPart(ref: string, text: string): RegistryImageRef {
  const slash = text.indexOf("/");
  if (slash <= 0) throw registryError(ref, "no registry host");
  const registry = text.slice(0, slash);
  if (!HOST.test(registry)) throw registryError(ref, `"${registry}" is not a host[:port]`);
  if (
    !registry.includes(".") &&
    !registry.includes(":") &&
    registry !== "localhost" &&
    !registry.startsWith("[")
  ) {
    throw registryError(ref, `"${registry}" does not look like a registry host (no "." or port)`);
  }
  let rest = text.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (e) {
      throw registryError(ref, (e as Error).message);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!DOCKER_TAG.test(tag)) throw registryError(ref, `"${tag}" is not a valid tag`);
  }
  if (rest === "") throw registryError(ref, "no repository");
  if (rest.length > 255) throw registryError(ref, "repository name longer than 255 characters");
  for (const component of rest.split("/")) {
    if (!REPO_COMPONENT.test(component)) {
      throw registryError(
        ref,
        `"${rest}" is not a valid repository (lowercase letters, digits, . _ - and /)`,
      );
    }
  }
  const out: RegistryImageRef = { transport: "registry", registry: registry.toLowerCase(), repository: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** A local image (inspect, and what the runtime drivers load). */
export function parseLocalRef(ref: string): LayoutImageRef | DockerArchiveImageRef {
  return parseImageRef(ref, LOCAL_READ_REF) as LayoutImageRef | DockerArchiveImageRef;
}

/** build's --output: where an image is written. */
export function parseTarget(ref: string): LayoutImageRef | DockerArchiveImageRef {
  return parseImageRef(ref, OUTPUT_REF) as LayoutImageRef | DockerArchiveImageRef;
}

/** push's source, pull's destination: `oci:DIR[:TAG]`. */
export function parseLayoutRef(ref: string): { dir: string; tag?: string } {
  const parsed = parseImageRef(ref, LAYOUT_REF) as LayoutImageRef;
  return parsed.tag === undefined ? { dir: parsed.path } : { dir: parsed.path, tag: parsed.tag };
}

/** A registry reference without its transport (what push, pull and the registry client use). */
export type RegistryRef = Omit<RegistryImageRef, "transport">;

/** push's destination, pull's source: HOST[:PORT]/REPO[:TAG][@DIGEST], with or without docker:// or registry:. */
export function parseRegistryRef(ref: string): RegistryRef {
  const parsed = parseImageRef(ref, REGISTRY_REF) as RegistryImageRef;
  return { registry: parsed.registry, repository: parsed.repository, tag: parsed.tag, digest: parsed.digest };
}

/** HOST/REPO[:TAG][@DIGEST] */
export function formatRegistryRef(r: RegistryRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}
