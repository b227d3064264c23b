/**
 * The filesystem tree that src/builder produces and src/oci turns into layers. Plain data.
 * Paths are relative, '/'-separated, without a leading '/' or './' (e.g. "usr/bin/node";
 * the root itself is never an entry). Directories are listed explicitly.
 */
export type TreeContent =
  /** bytes held in memory */
  | { kind: "bytes"; data: Uint8Array }
  /** a file on the local disk (e.g. a staged or cached file), read when the layer is written */
  | { kind: "file"; path: string };

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
