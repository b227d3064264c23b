/** The built-in behaviour checks of `shellfree test`. */
import { anyUid } from "./any-uid.ts";
import type { Check } from "./common.ts";
import { gracefulStop } from "./graceful-stop.ts";
import { healthcheck } from "./healthcheck.ts";
import { http } from "./http.ts";
import { mainDies } from "./main-dies.ts";
import { readOnly } from "./read-only.ts";
import { shellExecFails } from "./shell-exec-fails.ts";
import { startupTime } from "./startup-time.ts";

export const CHECKS: Record<string, Check> = {
  "shell-exec-fails": shellExecFails,
  healthcheck,
  http,
  "graceful-stop": gracefulStop,
  "main-dies": mainDies,
  "any-uid": anyUid,
  "read-only": readOnly,
  "startup-time": startupTime,
};

export const CHECK_NAMES = Object.keys(CHECKS);
export type { Check, CheckContext, CheckOptions } from "./common.ts";
