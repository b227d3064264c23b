/**
 * docker driver: only when a Docker engine answers (`docker version` reaches the server). The
 * image is loaded with `docker load` (docker-archive or oci-archive files); containers are run
 * attached like the podman driver. Containers it made are removed; the loaded image is kept
 * (it lives in the user's engine, which may already have had it).
 */
import type { OciImageConfig } from "../formats/index.ts";
import { LOCAL_READ_REF, parseImageRef } from "../oci/index.ts";
import { RuntimeError } from "./errors.ts";
import { PodmanDriver } from "./podman.ts";
import { run } from "./proc.ts";

/** Does a Docker engine answer? Returns its version, or the reason it does not. */
export async function dockerEngine(): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  let r: Awaited<ReturnType<typeof run>>;
  try {
    r = await run("docker", ["version", "--format", "{{.Server.Version}}"], { timeoutMs: 8000 });
  } catch (e) {
    return {
      ok: false,
      reason: `no docker client (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    };
  }
  if (r.code === 0 && r.stdout.trim()) return { ok: true, version: r.stdout.trim() };
  const why =
    (r.stderr
      .trim()
      .split("\n")
      .find((l) => /daemon|connect|socket|engine/i.test(l)) ??
      r.stderr.trim().split("\n")[0]) ||
    `exit ${r.code}`;
  return { ok: false, reason: r.timedOut ? "the docker client got no answer within 8 s" : why };
}

/** The file of a docker-archive: or oci-archive: reference (what `docker load` reads). */
function archiveFile(ref: string): string | undefined {
  try {
    const parsed = parseImageRef(ref, LOCAL_READ_REF);
    return parsed.transport === "oci-archive" || parsed.transport === "docker-archive"
      ? parsed.path
      : undefined;
  } catch {
    return undefined;
  }
}

export class DockerDriver extends PodmanDriver {
  override readonly name = "docker" as const;
  override readonly bin = "docker";

  constructor(ref: string, image: OciImageConfig) {
    super(ref, image);
  }

  override async prepare(): Promise<void> {
    if (this.imageId) return;
    const e = await dockerEngine();
    if (!e.ok)
      throw new RuntimeError("E_NO_ENGINE", `docker driver: no Docker engine answers (${e.reason})`, {
        hint: "start a Docker engine, or use --driver runc (as root) or --driver podman",
      });
    const file = archiveFile(this.ref);
    if (!file)
      throw new RuntimeError("E_DRIVER", `docker driver: cannot load "${this.ref}"`, {
        hint: "write the image as docker-archive:FILE or oci-archive:FILE",
      });
    this.global = [];
    const r = await this.cmd(["load", "-q", "-i", file]);
    if (r.code !== 0) throw new RuntimeError("E_DRIVER", `docker load ${file}: ${r.stderr.trim()}`);
    const id = /Loaded image(?: ID)?: (\S+)/.exec(r.stdout)?.[1];
    if (!id) throw new RuntimeError("E_DRIVER", `docker load ${file}: no image in its output`);
    this.imageId = id;
  }
}
