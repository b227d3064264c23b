/** runtime: run images for real (`shellfree test`) under runc, podman or docker. */
export * from "./checks/index.ts";
export * from "./detect.ts";
export { DockerDriver, dockerEngine } from "./docker.ts";
export type { Container, Driver, ExecResult, Session, StartOptions } from "./driver.ts";
export * from "./errors.ts";
export { PodmanDriver } from "./podman.ts";
export * from "./report.ts";
export { containerEnv, mainArgv, RuncDriver, resolveUserSpec, runtimeSpec } from "./runc.ts";
export * from "./structure/config.ts";
export * from "./structure/run.ts";
export * from "./test.ts";
export { secureJoin, unpackImage, unpackLayer } from "./unpack.ts";
