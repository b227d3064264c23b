/**
 * A content spool: a scratch file that the .deb reader writes file contents into as they are
 * decompressed, so that a build holds every package's files by offset instead of in memory
 * (what mmdebstrap gets from extracting to disk). The file is unlinked as soon as it is open:
 * nothing is left behind however the process ends, and the kernel may drop its pages without
 * writing them. Reads and writes are positional and synchronous: they hit the page cache, and
 * they never wait behind compression jobs on libuv's thread pool. Several readers may write at
 * once: each file's bytes go to a range reserved for it up front (its size is in its tar header).
 */
import { closeSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { tempPathFor } from "../util/atomic.ts";
import { ioError } from "../util/io-error.ts";

export class ContentSpool {
  #fd: number;
  #end = 0;
  readonly #where: string;

  private constructor(fd: number, where: string) {
    this.#fd = fd;
    this.#where = where;
  }

  /** A new, already unlinked spool file in `dir` (created if missing). */
  static create(dir: string): ContentSpool {
    try {
      mkdirSync(dir, { recursive: true });
      const path = tempPathFor(join(dir, "contents"));
      const fd = openSync(path, "wx+", 0o600);
      try {
        unlinkSync(path);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      return new ContentSpool(fd, dir);
    } catch (e) {
      throw ioError(e, `cannot create a scratch file in ${dir}`);
    }
  }

  /** Bytes reserved so far (the spool's size once every reserved range is written). */
  get size(): number {
    return this.#end;
  }

  /** Reserve `size` bytes; returns their offset. */
  reserve(size: number): number {
    const at = this.#end;
    this.#end += size;
    return at;
  }

  /** Write `data` at `position` (inside a reserved range). */
  write(data: Uint8Array, position: number): void {
    let done = 0;
    try {
      while (done < data.length)
        done += writeSync(this.#open(), data, done, data.length - done, position + done);
    } catch (e) {
      throw this.#ioError("write to", e);
    }
  }

  /** Read up to `length` bytes at `position` into `buf` (from 0); returns the count read. */
  readInto(buf: Uint8Array, position: number, length = buf.length): number {
    let got = 0;
    try {
      while (got < length) {
        const n = readSync(this.#open(), buf, got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch (e) {
      throw this.#ioError("read from", e);
    }
    return got;
  }

  /** `length` bytes at `position`, as a new buffer. */
  read(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    if (this.readInto(buf, position, length) !== length)
      throw new Error(`scratch file in ${this.#where}: short read at ${position}`);
    return buf;
  }

  /** Close (and so free) the spool; further reads or writes fail. Idempotent. */
  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  #open(): number {
    if (this.#fd < 0) throw new Error(`scratch file in ${this.#where}: used after close`);
    return this.#fd;
  }

  #ioError(what: string, e: unknown): unknown {
    return ioError(e, `cannot ${what} the scratch file in ${this.#where}`);
  }
}
