/**
 * shellfree-init, as the rest of shellfree sees it: the `init:` schema (checked at build time,
 * written as /etc/shellfree/init.json) and where the native binaries are (the init itself is the
 * Go program in the top-level init/).
 */
export {
  INIT_BINARY_ARCHES,
  INIT_BINARY_PATH,
  INIT_DIST_DIR,
  type InitBinary,
  InitBinaryMissing,
  initBinaryPath,
  initVersion,
  readInitBinary,
} from "./binary.ts";
export {
  applyEnvOverrides,
  DEFAULT_HEALTH_PORT,
  durationMs,
  INIT_CONFIG_PATH,
  type InitConfig,
  InitConfigError,
  type InitTask,
  parseDuration,
  parseInitConfig,
  type ReadyCheck,
  toInitJson,
} from "./config.ts";
