/** Media types of the OCI image spec and Docker image manifest v2 schema 2. */
export const MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const MEDIA_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const MEDIA_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const MEDIA_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";

export const MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const MEDIA_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";

/** The Accept header of a manifest request: every manifest and index type a registry may hold. */
export const MANIFEST_ACCEPT = [
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  MEDIA_DOCKER_MANIFEST_LIST,
  MEDIA_DOCKER_MANIFEST,
].join(", ");
export const MEDIA_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";
export const ANNOTATION_CREATED = "org.opencontainers.image.created";

export function isIndexMediaType(m: string | undefined): boolean {
  return m === MEDIA_OCI_INDEX || m === MEDIA_DOCKER_MANIFEST_LIST;
}
export function isManifestMediaType(m: string | undefined): boolean {
  return m === MEDIA_OCI_MANIFEST || m === MEDIA_DOCKER_MANIFEST;
}

/** The compression of a layer media type, or undefined when it is not a layer type we know. */
export function layerCompression(m: string): "gzip" | "zstd" | "none" | undefined {
  switch (m) {
    case MEDIA_OCI_LAYER:
    case MEDIA_DOCKER_LAYER:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar":
      return "none";
    case MEDIA_OCI_LAYER_GZIP:
    case MEDIA_DOCKER_LAYER_GZIP:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
    case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
      return "gzip";
    case MEDIA_OCI_LAYER_ZSTD:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
      return "zstd";
    default:
      return undefined;
  }
}
