/** `shellfree lock [SPEC]`: resolve the spec and write shellfree.lock. */

import { resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { diffLock, type Lockfile, lockSpec, readLock, writeLock } from "../builder/index.ts";
import { isShellfreeError } from "../errors.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { ioError, ioErrorUnder } from "../util/io-error.ts";
import { info, warn } from "../util/progress.ts";
import {
  addSpecArchiveOptions,
  lockPathFor,
  type SpecArchiveCliOptions,
  sourceDateEpochFromEnv,
  specArgument,
  specFromOptions,
} from "./build.ts";
import { action, output } from "./common.ts";

export function register(program: Command): void {
  const cmd = program
    .command("lock")
    .description("resolve the spec's packages and Node.js runtime and write shellfree.lock")
    .option("--check", "do not write: exit 1 if the lockfile is missing, corrupt or out of date");
  addSpecArchiveOptions(cmd);
  cmd.action(
    action(async (specArg: string | undefined, opts: SpecArchiveCliOptions & { check?: boolean }) => {
      opts.spec = specArgument(specArg, opts);
      const spec = specFromOptions(opts);
      const file = lockPathFor(opts);
      // a corrupt lockfile is not "out of date": --check says what is wrong with it; without
      // --check it is replaced, saying so
      let old: Lockfile | undefined;
      try {
        old = await readLock(file);
      } catch (e) {
        if (opts.check || !isShellfreeError(e) || e.code !== "E_LOCK") throw e;
        warn(`${e.message}; writing a new one`);
      }
      const cacheDir = resolvePath(opts.cacheDir ?? defaultCacheDir());
      const { lock } = await lockSpec(spec, {
        mirror: opts.mirror,
        securityMirror: opts.securityMirror,
        keyring: opts.keyring,
        allowExpired: opts.allowExpired,
        cacheDir: opts.cacheDir,
        sourceDateEpoch: sourceDateEpochFromEnv() ?? old?.sourceDateEpoch,
      }).catch((e) => {
        throw ioErrorUnder(e, cacheDir, `cannot write the cache ${cacheDir}`);
      });
      const changes: Record<string, string[]> = {};
      for (const [a, la] of Object.entries(lock.architectures))
        changes[a] = diffLock(old?.architectures[a], la);
      const inputsChanged = old !== undefined && old.inputs !== lock.inputs;
      const changed = !old || inputsChanged || Object.values(changes).some((c) => c.length > 0);
      if (!opts.check && changed) {
        await writeLock(file, lock).catch((e) => {
          throw ioError(e, `cannot write ${file}`);
        });
        info(`wrote ${file}`);
      }
      output(opts.json === true, { lockfile: file, changed, written: !opts.check && changed, changes }, () =>
        [
          `${file}: ${changed ? (opts.check ? "out of date" : old ? "updated" : "created") : "up to date"}`,
          ...Object.entries(changes).flatMap(([a, c]) => c.map((x) => `  ${a}: ${x}`)),
        ].join("\n"),
      );
      return opts.check && changed ? 1 : 0;
    }),
  );
}
