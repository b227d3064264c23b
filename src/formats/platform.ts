/**
 * Debian architecture names and the OCI platforms that name the same machines (the image-spec's
 * GOARCH/variant names, what registries list and `--platform` takes): amd64 → linux/amd64,
 * arm64 → linux/arm64/v8, armhf → linux/arm/v7, armel → linux/arm/v5, i386 → linux/386,
 * ppc64el → linux/ppc64le, s390x → linux/s390x, riscv64 → linux/riscv64, mips64el →
 * linux/mips64le. Written by the builder, read back by `outdated`.
 */

export interface OciPlatform {
  os: "linux";
  architecture: string;
  variant?: string;
}

const TO_OCI: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  amd64: { architecture: "amd64" },
  arm64: { architecture: "arm64", variant: "v8" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v5" },
  i386: { architecture: "386" },
  ppc64el: { architecture: "ppc64le" },
  s390x: { architecture: "s390x" },
  riscv64: { architecture: "riscv64" },
  mips64el: { architecture: "mips64le" },
  loong64: { architecture: "loong64" },
};

/** The OCI platform of a Debian architecture (an unknown one keeps its name). */
export function ociPlatform(debianArch: string): OciPlatform {
  const p = TO_OCI[debianArch] ?? { architecture: debianArch };
  return { os: "linux" as const, ...p };
}

/** The Debian architecture of an OCI architecture (+ variant). */
export function debianArch(arch: string, variant?: string): string {
  if (arch === "arm") return variant === "v5" || variant === "v6" ? "armel" : "armhf";
  for (const [deb, p] of Object.entries(TO_OCI)) if (p.architecture === arch) return deb;
  return arch;
}
