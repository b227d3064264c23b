/** shellfree-init: what the rest of shellfree may import (pure parts only). */
export {
  applyEnvOverrides,
  DEFAULT_HEALTH_PORT,
  durationMs,
  INIT_CONFIG_PATH,
  INIT_JS_PATH,
  type InitConfig,
  InitConfigError,
  type InitTask,
  parseDuration,
  parseInitConfig,
  type ReadyCheck,
  toInitJson,
} from "./config.ts";
