/** Choosing a driver: --driver, or the first that works here (runc as root, podman, a Docker engine). */
import type { OciImageConfig } from "../formats/index.ts";
import type { OpenedLayer } from "../oci/index.ts";
import { DockerDriver, dockerEngine } from "./docker.ts";
import type { Driver } from "./driver.ts";
import { RuntimeError } from "./errors.ts";
import { PodmanDriver } from "./podman.ts";
import { which } from "./proc.ts";
import { RuncDriver } from "./runc.ts";

export const DRIVERS = ["runc", "podman", "docker"] as const;
export type DriverName = (typeof DRIVERS)[number];

export interface DriverImage {
  ref: string;
  config: OciImageConfig;
  layers: OpenedLayer[];
}

async function runcProblem(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "the runc driver needs root (it mounts the bundle's rootfs)";
  if (!(await which("runc"))) return "runc is not installed";
  return undefined;
}

export async function makeDriver(name: DriverName | undefined, img: DriverImage): Promise<Driver> {
  if (name !== undefined && !DRIVERS.includes(name)) {
    throw new RuntimeError("E_USAGE", `unknown driver "${name}" (use ${DRIVERS.join(", ")})`, {
      exitCode: 2,
    });
  }
  if (name === "runc") {
    const p = await runcProblem();
    if (p)
      throw new RuntimeError("E_NO_RUNTIME", `--driver runc: ${p}`, {
        hint: "install runc (apt-get install runc) and run as root, or use --driver podman",
      });
    return new RuncDriver(img.config, img.layers, { runc: await which("runc") });
  }
  if (name === "podman") {
    if (!(await which("podman")))
      throw new RuntimeError("E_NO_RUNTIME", "--driver podman: podman is not installed", {
        hint: "install podman (apt-get install podman), or use --driver runc as root",
      });
    return new PodmanDriver(img.ref, img.config);
  }
  if (name === "docker") {
    const e = await dockerEngine();
    if (!e.ok)
      throw new RuntimeError("E_NO_ENGINE", `--driver docker: no Docker engine answers (${e.reason})`, {
        hint: "start a Docker engine, or use --driver runc (as root) or --driver podman",
      });
    return new DockerDriver(img.ref, img.config);
  }
  const why: string[] = [];
  const rp = await runcProblem();
  if (!rp) return new RuncDriver(img.config, img.layers, { runc: await which("runc") });
  why.push(`runc: ${rp}`);
  if (await which("podman")) return new PodmanDriver(img.ref, img.config);
  why.push("podman: not installed");
  const e = await dockerEngine();
  if (e.ok) return new DockerDriver(img.ref, img.config);
  why.push(`docker: ${e.reason}`);
  throw new RuntimeError("E_NO_RUNTIME", `no container runtime works here (${why.join("; ")})`, {
    hint: "install runc and run as root (apt-get install runc), or install podman, or start a Docker engine",
  });
}
