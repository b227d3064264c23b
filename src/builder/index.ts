/** The API of src/builder: specs, presets, the build pipeline, lockfiles. */
export * from "./accounts.ts";
export * from "./alternatives.ts";
export * from "./build.ts";
export * from "./cacerts.ts";
export * from "./debinfo.ts";
export * from "./dpkgdb.ts";
export * from "./errors.ts";
export * from "./init-bundle.ts";
export * from "./lock.ts";
export * from "./osrelease.ts";
export * from "./presets/index.ts";
export * from "./rootfs.ts";
export * from "./spec.ts";
