/** The API of src/builder: the build pipeline, lockfiles, the generated files. */
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
export * from "./rootfs.ts";
