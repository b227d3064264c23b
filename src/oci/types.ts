/**
 * The filesystem tree that src/builder produces and src/oci turns into layers. Plain data.
 * Paths are relative, '/'-separated, without a leading '/' or './' (e.g. "usr/bin/node";
 * the root itself is never an entry). Directories are listed explicitly.
 */
export type TreeContent =
  /** bytes held in memory */
  | { kind: "bytes"; data: Uint8Array }
  /** a file on the local disk (e.g. a staged or cached file), read when the layer is written */
  | { kind: "file"; path: string }
  /** the entry's `size` bytes at `offset` of a store (e.g. a build's spool of package contents) */
  | { kind: "range"; store: RangeStore; offset: number };

/** Somewhere bytes are read from by position (synchronously: a local file, the page cache). */
export interface RangeStore {
  /** read up to `length` bytes at `position` into `buf` from its start; returns the count read */
  readInto(buf: Uint8Array, position: number, length: number): number;
}

interface EntryBase {
  path: string;
  /** permission bits incl. setuid/setgid/sticky (e.g. 0o755, 0o1777); no file-type bits */
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch; the layer writer clamps to SOURCE_DATE_EPOCH */
  mtime?: number;
}

export interface FileEntry extends EntryBase {
  type: "file";
  size: number;
  content: TreeContent;
}
export interface DirEntry extends EntryBase {
  type: "dir";
}
export interface SymlinkEntry extends EntryBase {
  type: "symlink";
  /** link target exactly as stored (relative or absolute) */
  target: string;
}
export interface HardlinkEntry extends EntryBase {
  type: "hardlink";
  /** path (same form as `path`) of the file entry this links to; it must come earlier in the same layer */
  target: string;
}
export type TreeEntry = FileEntry | DirEntry | SymlinkEntry | HardlinkEntry;

/** Platform of one image in an index. */
export interface Platform {
  os: "linux";
  /** OCI/Go names: "amd64", "arm64" */
  architecture: string;
  variant?: string;
}
