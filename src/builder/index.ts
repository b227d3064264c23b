/** The API of src/builder: the build pipeline, lockfiles, and the files it generates. */
export * from "./accounts.ts";
export * from "./alternatives.ts";
export * from "./build.ts";
export * from "./cacerts.ts";
export * from "./debinfo.ts";
export * from "./dpkgdb.ts";
export * from "./errors.ts";
export type { InitBinaryFacts } from "./init-layer.ts";
export * from "./lock.ts";
export * from "./lock-spec.ts";
export * from "./osrelease.ts";
export type * from "./report.ts";
export * from "./rootfs.ts";
