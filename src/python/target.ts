/**
 * The image a Python dependency set is chosen for: its CPython version, its Debian
 * architecture and its glibc version. Everything else (wheel tags, marker environment, where
 * files install, how to run the image's interpreter) is derived from these three facts, which
 * the builder reads from the image's own packages (python3.X and libc6).
 */
import { PythonError } from "./errors.ts";

export interface PythonTarget {
  /** the image's CPython version, at least "3.13" ("3.13.5" when known) */
  python: string;
  /** Debian architecture: amd64, arm64, armhf, ppc64el, s390x, riscv64, i386 */
  arch: string;
  /** the image's glibc version, "2.41" */
  glibc: string;
}

export interface ArchInfo {
  /** what `platform.machine()` (uname -m) says on it, also the wheel platform suffix */
  machine: string;
  /** Debian's multiarch triplet (library directories) */
  triplet: string;
  /** the ELF interpreter's path in the image */
  loader: string;
  /** the qemu-user name of the architecture (`qemu-<name>-static`) */
  qemu: string;
  /** Node's `process.arch` for it */
  nodeArch: string;
}

export const ARCHES: Readonly<Record<string, ArchInfo>> = {
  amd64: {
    machine: "x86_64",
    triplet: "x86_64-linux-gnu",
    loader: "/lib64/ld-linux-x86-64.so.2",
    qemu: "x86_64",
    nodeArch: "x64",
  },
  arm64: {
    machine: "aarch64",
    triplet: "aarch64-linux-gnu",
    loader: "/lib/ld-linux-aarch64.so.1",
    qemu: "aarch64",
    nodeArch: "arm64",
  },
  armhf: {
    machine: "armv7l",
    triplet: "arm-linux-gnueabihf",
    loader: "/lib/ld-linux-armhf.so.3",
    qemu: "arm",
    nodeArch: "arm",
  },
  ppc64el: {
    machine: "ppc64le",
    triplet: "powerpc64le-linux-gnu",
    loader: "/lib64/ld64.so.2",
    qemu: "ppc64le",
    nodeArch: "ppc64",
  },
  s390x: {
    machine: "s390x",
    triplet: "s390x-linux-gnu",
    loader: "/lib/ld64.so.1",
    qemu: "s390x",
    nodeArch: "s390x",
  },
  riscv64: {
    machine: "riscv64",
    triplet: "riscv64-linux-gnu",
    loader: "/lib/ld-linux-riscv64-lp64d.so.1",
    qemu: "riscv64",
    nodeArch: "riscv64",
  },
  i386: {
    machine: "i686",
    triplet: "i386-linux-gnu",
    loader: "/lib/ld-linux.so.2",
    qemu: "i386",
    nodeArch: "ia32",
  },
};

export function archInfo(arch: string): ArchInfo {
  const a = ARCHES[arch];
  if (!a) {
    throw new PythonError(
      "E_PY_TARGET",
      `architecture ${JSON.stringify(arch)} is not supported for Python wheels (supported: ${Object.keys(ARCHES).join(", ")})`,
    );
  }
  return a;
}

/** The Debian architecture of the machine running shellfree, if it is one of ARCHES. */
export function hostArch(): string | undefined {
  for (const [deb, a] of Object.entries(ARCHES)) {
    if (a.nodeArch === process.arch) return deb;
  }
  return undefined;
}

/** Major and minor of the target's CPython: [3, 13]. */
export function pythonMajorMinor(t: PythonTarget): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(t.python);
  if (!m) throw new PythonError("E_PY_TARGET", `not a Python version: ${JSON.stringify(t.python)}`);
  return [Number(m[1]), Number(m[2])];
}

/** "3.13" */
export function pythonShort(t: PythonTarget): string {
  const [a, b] = pythonMajorMinor(t);
  return `${a}.${b}`;
}

/** The glibc version as numbers: [2, 41]. */
export function glibcVersion(t: PythonTarget): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(t.glibc);
  if (!m) throw new PythonError("E_PY_TARGET", `not a glibc version: ${JSON.stringify(t.glibc)}`);
  return [Number(m[1]), Number(m[2])];
}

/** Strip a Debian epoch and revision: "1:3.13.5-2+deb13u5" → "3.13.5". */
function upstream(debVersion: string): string {
  return debVersion.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
}

/**
 * The target of an image from its packages' versions: `pythonVersion` from the python3.X (or
 * python3) package ("3.13.5-2"), `libcVersion` from libc6 ("2.41-12+deb13u5").
 */
export function targetFromDebian(p: {
  arch: string;
  pythonVersion: string;
  libcVersion: string;
}): PythonTarget {
  archInfo(p.arch);
  const py = /^(\d+\.\d+(?:\.\d+)?)/.exec(upstream(p.pythonVersion));
  if (!py) {
    throw new PythonError(
      "E_PY_TARGET",
      `cannot read a Python version from ${JSON.stringify(p.pythonVersion)}`,
    );
  }
  const libc = /^(\d+\.\d+)/.exec(upstream(p.libcVersion));
  if (!libc)
    throw new PythonError("E_PY_TARGET", `cannot read a glibc version from ${JSON.stringify(p.libcVersion)}`);
  return { python: py[1], arch: p.arch, glibc: libc[1] };
}

/** The installation scheme of Debian's python for packages not from Debian (pip's `posix_local`). */
export interface InstallScheme {
  purelib: string;
  platlib: string;
  scripts: string;
  /** headers go to `<headers>/<project name>` */
  headers: string;
  data: string;
  /** the interpreter named in script shebangs */
  interpreter: string;
}

/**
 * Where Debian's CPython (and Debian's pip) install what is not from a Debian package:
 * sysconfig's `posix_local` scheme — /usr/local/lib/python3.X/dist-packages (on sys.path of
 * Debian's interpreter before /usr/lib/python3/dist-packages), scripts in /usr/local/bin.
 * Paths are relative to the image root, without a leading '/'.
 */
export function debianScheme(t: PythonTarget): InstallScheme {
  const short = pythonShort(t);
  const site = `usr/local/lib/python${short}/dist-packages`;
  return {
    purelib: site,
    platlib: site,
    scripts: "usr/local/bin",
    headers: `usr/local/include/python${short}`,
    data: "usr/local",
    interpreter: `/usr/bin/python${short}`,
  };
}

/** Values of PEP 508 environment markers for the target (the interpreter on Linux). */
export function markerEnvironment(t: PythonTarget): Record<string, string> {
  const [major, minor] = pythonMajorMinor(t);
  const full = /^\d+\.\d+\.\d+/.test(t.python) ? t.python : `${major}.${minor}.0`;
  return {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_machine: archInfo(t.arch).machine,
    // the kernel is the host's at run time: unknown when the image is built
    platform_release: "",
    platform_version: "",
    platform_python_implementation: "CPython",
    implementation_name: "cpython",
    implementation_version: full,
    python_version: `${major}.${minor}`,
    python_full_version: full,
  };
}
