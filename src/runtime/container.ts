/**
 * A container whose main process runs as our child in the foreground (`runc run`, an attached
 * `podman run`/`docker run`): its output captured, its exit status the container's, its
 * removal shared by every caller (a check's finally and the Ctrl-C clean-up may race).
 */
import { spawn } from "node:child_process";
import type { Container, ExecResult } from "./driver.ts";
import { capture, track } from "./proc.ts";

/** The containers a driver started and has not removed yet. */
export class LiveContainers<C extends ChildContainer> {
  private readonly live = new Set<C>();

  /** Start `container`, remembered until it is removed. */
  launch(container: C): C {
    this.live.add(container);
    container.onRemoved = () => this.live.delete(container);
    container.launch();
    return container;
  }

  async removeAll(): Promise<void> {
    for (const container of [...this.live]) await container.remove().catch(() => {});
  }
}

export abstract class ChildContainer implements Container {
  readonly id: string;
  exited!: Promise<number>;
  /** called once the container is gone (its driver forgets it) */
  onRemoved?: () => void;
  private readonly out = { text: "" };
  private readonly err = { text: "" };
  private removing?: Promise<void>;

  constructor(id: string) {
    this.id = id;
  }

  /**
   * Start `command args` as the container's foreground process. A spawn failure is exit 127
   * (its message on stderr after `errorPrefix`); an exit without a code (killed) is `killedCode`;
   * `exitCode` may translate the runtime's own status (e.g. runc's 1 for "executable not found").
   */
  protected spawnMain(
    command: string,
    args: string[],
    opts: {
      errorPrefix: string;
      killedCode: (signal: NodeJS.Signals | null) => number;
      exitCode?: (code: number, stderr: string) => number;
    },
  ): void {
    const child = track(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
    capture(child.stdout, this.out);
    capture(child.stderr, this.err);
    this.exited = new Promise((resolve) => {
      child.on("error", (e) => {
        this.err.text += `${opts.errorPrefix}${e.message}\n`;
        resolve(127);
      });
      child.on("close", (code, signal) => {
        if (code === null) resolve(opts.killedCode(signal));
        else resolve(opts.exitCode ? opts.exitCode(code, this.err.text) : code);
      });
    });
  }

  logs(): { stdout: string; stderr: string } {
    return { stdout: this.out.text, stderr: this.err.text };
  }

  /** idempotent: concurrent callers (a check's finally, the Ctrl-C cleanup) share one removal */
  remove(): Promise<void> {
    this.removing ??= (async () => {
      await this.removeNow();
      this.onRemoved?.();
    })();
    return this.removing;
  }

  /** start the main process (once) */
  abstract launch(): void;
  /** stop the main process and remove every trace of the container */
  protected abstract removeNow(): Promise<void>;
  abstract exec(
    argv: string[],
    opts?: { env?: Record<string, string>; user?: string; timeoutMs?: number },
  ): Promise<ExecResult>;
  abstract signal(sig: string): Promise<void>;
  abstract hostPid(): Promise<number>;
}
