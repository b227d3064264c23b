/**
 * A network namespace of the test's own (`ip netns add`), with only a loopback interface: the
 * containers join it, the origin servers listen in it and the clients connect in it, so the
 * ports Squid and the init use (3128, 3129, 8080, 80, 443) cannot clash with anything else on the
 * machine, and nothing leaves it. Commands enter it with `nsenter --net` (only the network
 * namespace: `ip netns exec` also remounts /sys, which hides the cgroup mounts runc needs).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type RunOptions, type RunResult, runCommand } from "../../../helpers/run.ts";

export interface Netns {
  name: string;
  /** /var/run/netns/NAME: what runc's and podman's configurations name */
  path: string;
  /** run a command in the namespace, to completion */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** start a long-running command in the namespace */
  spawn(cmd: string, args: string[]): ChildProcess;
  remove(): Promise<void>;
}

export async function createNetns(prefix = "sfsq"): Promise<Netns> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await runCommand("ip", ["netns", "add", name]);
  const children = new Set<ChildProcess>();
  const ns: Netns = {
    name,
    path: `/var/run/netns/${name}`,
    run: (cmd, args, opts) => runCommand("nsenter", [`--net=/var/run/netns/${name}`, cmd, ...args], opts),
    spawn(cmd, args) {
      const child = spawn("nsenter", [`--net=/var/run/netns/${name}`, cmd, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(child);
      child.once("exit", () => children.delete(child));
      return child;
    },
    async remove() {
      for (const c of children) c.kill("SIGKILL");
      await runCommand("ip", ["netns", "del", name], { allowFail: true });
    },
  };
  try {
    await runCommand("ip", ["-n", name, "link", "set", "lo", "up"]);
  } catch (e) {
    await ns.remove();
    throw e;
  }
  return ns;
}
