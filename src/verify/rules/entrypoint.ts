/** entrypoint: an exec-form ENTRYPOINT/CMD whose program exists and is executable. */
import { checkCommand } from "./command.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "entrypoint",
  title: "Exec-form entrypoint",
  description:
    "Entrypoint + Cmd form an exec-form command whose program exists in the image and is executable by its user (an image with neither is a base image: a note, unless allow-base-image: false).",
  defaultSeverity: "error",
  hint: 'set entrypoint to ["/absolute/program", ...] (exec form)',
  securitySeverity: 5.0,
  tags: ["security", "container", "shell"],
  precision: "high",
  check({ fs, config, options }) {
    const c = config.config ?? {};
    const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
    if (argv.length === 0) {
      // a base image (like the static preset): the images built on it bring the command
      if (options["allow-base-image"] !== false) {
        return [
          {
            field: "config.Entrypoint",
            severity: "info",
            message:
              "neither Entrypoint nor Cmd is set: checked as a base image (images built on it must set an exec-form entrypoint)",
          },
        ];
      }
      return [
        {
          field: "config.Entrypoint",
          message: "neither Entrypoint nor Cmd is set: the image has nothing to run",
        },
      ];
    }
    const field = c.Entrypoint?.length ? "config.Entrypoint" : "config.Cmd";
    return checkCommand(fs, config, argv, field) as RawFinding[];
  },
};
