/** healthcheck: a HEALTHCHECK is present, in exec form (CMD, not CMD-SHELL), and its program exists. */
import { checkCommand } from "./command.ts";
import type { Rule } from "./types.ts";

export const rule: Rule = {
  id: "healthcheck",
  title: "Exec-form HEALTHCHECK",
  description:
    "config.Healthcheck is present and exec form (CMD, never CMD-SHELL or NONE), and its program exists.",
  defaultSeverity: "error",
  hint: 'add a healthcheck in exec form, e.g. test: ["/usr/bin/shellfree-init", "probe", "/ready"] (shellfree build adds it with init:)',
  securitySeverity: 3.0,
  tags: ["reliability", "container", "shell"],
  precision: "high",
  check({ fs, config, options }) {
    const field = "config.Healthcheck.Test";
    const t = config.config?.Healthcheck?.Test ?? [];
    if (t.length === 0) {
      const c = config.config ?? {};
      if (options["allow-base-image"] !== false && !c.Entrypoint?.length && !c.Cmd?.length) {
        return [
          {
            field,
            severity: "info",
            message: "no HEALTHCHECK: a base image (no Entrypoint/Cmd); images built on it need one",
          },
        ];
      }
      return [{ field, message: "the image has no HEALTHCHECK" }];
    }
    if (t[0] === "NONE") return [{ field, message: "HEALTHCHECK is disabled (NONE)" }];
    if (t[0] === "CMD-SHELL") {
      return [
        {
          field,
          message: `HEALTHCHECK is shell form (CMD-SHELL ${JSON.stringify(t.slice(1).join(" "))}): it needs /bin/sh`,
          hint: 'use exec form: ["CMD", "/path/to/probe", "arg"]',
        },
      ];
    }
    if (t[0] !== "CMD") return [{ field, message: `HEALTHCHECK test starts with "${t[0]}" (expected CMD)` }];
    if (t.length < 2) return [{ field, message: "HEALTHCHECK CMD has no command" }];
    return checkCommand(fs, config, t.slice(1), field);
  },
};
