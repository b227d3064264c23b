/**
 * What real cosign 2.5 (Debian trixie's) wrote to a docker-registry on 127.0.0.1 (port 45123)
 * for the image manifest sha256:815ebe…: a key pair made by `cosign generate-key-pair` (only
 * the public key is kept here), `cosign sign --key cosign.key --tlog-upload=false -a foo=bar`,
 * then the same without `-a` (a second layer appended), and `cosign attest --new-bundle-format
 * --type https://sigstore.dev/cosign/sign/v1 --predicate {}` (a Sigstore bundle referrer).
 * Bytes exactly as served by the registry.
 */
/** cosign.pub */
export const COSIGN_PUB =
  "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE92l6dlGk4NAlKyCRFEyAarVoh2gn\nkbvtLHZOwhivlj7Zx2jzIv67+OtljotiDk7O6yNRRpnhUZCqthC5f23Daw==\n-----END PUBLIC KEY-----\n";
/** the signed image manifest */
export const IMAGE_DIGEST = "sha256:815ebecfa822fe6c6948c5f51f3255d34205b630770e14c53c8a691392eeec5c";
/** its size */
export const IMAGE_SIZE = 401;
/** its repository */
export const IDENTITY = "127.0.0.1:45123/test/one";
/** the signature image after the first signature (-a foo=bar) */
export const SIG_MANIFEST_1 =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:98c1627a41daaa32b6650a2fc8951aba0998f05ba75705acb480f6b82fc8231a"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":249,"digest":"sha256:d450f479f01c3e7eb61356610e043fd354f349464fc9a7603d492a0cf52eb5fc","annotations":{"dev.cosignproject.cosign/signature":"MEQCIB1b0f5g/2luDsfwL0ds5q4o8xbuilrTVY/1bovQ6KQzAiASPDMJcjap7KsvIQ70ukXwqukZheFcEHHKyFIFbBQfeg=="}}]}';
/** its config */
export const SIG_CONFIG_1 =
  '{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:d450f479f01c3e7eb61356610e043fd354f349464fc9a7603d492a0cf52eb5fc"]},"config":{}}';
/** the signature image after the second signature (no annotations) */
export const SIG_MANIFEST_2 =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":342,"digest":"sha256:7a2ffb0b72a30ff7878e7a5aa1e94434d4c1e833f09a96c0baf845bc9da0ffcf"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":249,"digest":"sha256:d450f479f01c3e7eb61356610e043fd354f349464fc9a7603d492a0cf52eb5fc","annotations":{"dev.cosignproject.cosign/signature":"MEQCIB1b0f5g/2luDsfwL0ds5q4o8xbuilrTVY/1bovQ6KQzAiASPDMJcjap7KsvIQ70ukXwqukZheFcEHHKyFIFbBQfeg=="}},{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":240,"digest":"sha256:e9cb269b99981a6855ca7b237dedc681d24ab72ba3767c6d039cb8aa65a47f77","annotations":{"dev.cosignproject.cosign/signature":"MEYCIQCqnZdLGgvdd5IbAu2mYOa6eBA+Pa3+OiFFxONeC436PAIhAL6a0MOYUTscMfM2PgMiKB9VoOs6Sh6filwSifDatKOZ"}}]}';
/** its config */
export const SIG_CONFIG_2 =
  '{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"},{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:d450f479f01c3e7eb61356610e043fd354f349464fc9a7603d492a0cf52eb5fc","sha256:e9cb269b99981a6855ca7b237dedc681d24ab72ba3767c6d039cb8aa65a47f77"]},"config":{}}';
/** the first payload (optional foo=bar) */
export const PAYLOAD_1 =
  '{"critical":{"identity":{"docker-reference":"127.0.0.1:45123/test/one"},"image":{"docker-manifest-digest":"sha256:815ebecfa822fe6c6948c5f51f3255d34205b630770e14c53c8a691392eeec5c"},"type":"cosign container image signature"},"optional":{"foo":"bar"}}';
/** its signature */
export const SIGNATURE_1 =
  "MEQCIB1b0f5g/2luDsfwL0ds5q4o8xbuilrTVY/1bovQ6KQzAiASPDMJcjap7KsvIQ70ukXwqukZheFcEHHKyFIFbBQfeg==";
/** the second payload (optional null) */
export const PAYLOAD_2 =
  '{"critical":{"identity":{"docker-reference":"127.0.0.1:45123/test/one"},"image":{"docker-manifest-digest":"sha256:815ebecfa822fe6c6948c5f51f3255d34205b630770e14c53c8a691392eeec5c"},"type":"cosign container image signature"},"optional":null}';
/** its signature */
export const SIGNATURE_2 =
  "MEYCIQCqnZdLGgvdd5IbAu2mYOa6eBA+Pa3+OiFFxONeC436PAIhAL6a0MOYUTscMfM2PgMiKB9VoOs6Sh6filwSifDatKOZ";
/** the bundle's referrer manifest (cosign attest --new-bundle-format) */
export const BUNDLE_MANIFEST =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":687,"digest":"sha256:e3ff1d9251660b2df836fd193cd209d075a5fd4290296009cf5a2d059691e6ac"}],"annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2026-12-02T04:29:57Z"},"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":401,"digest":"sha256:815ebecfa822fe6c6948c5f51f3255d34205b630770e14c53c8a691392eeec5c"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}';
/** the bundle (protojson, with its spaces) */
export const BUNDLE =
  '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial":{"publicKey":{"hint":"CX5+Uw4z6UYdThLajaSDoa8vo8skAJEwlt0n3YXUgrM="}}, "dsseEnvelope":{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjAuMSIsInByZWRpY2F0ZVR5cGUiOiJodHRwczovL3NpZ3N0b3JlLmRldi9jb3NpZ24vc2lnbi92MSIsInN1YmplY3QiOlt7Im5hbWUiOiIxMjcuMC4wLjE6NDUxMjMvdGVzdC9vbmUiLCJkaWdlc3QiOnsic2hhMjU2IjoiODE1ZWJlY2ZhODIyZmU2YzY5NDhjNWY1MWYzMjU1ZDM0MjA1YjYzMDc3MGUxNGM1M2M4YTY5MTM5MmVlZWM1YyJ9fV0sInByZWRpY2F0ZSI6e319", "payloadType":"application/vnd.in-toto+json", "signatures":[{"sig":"MEUCIQCeer9ntJkBKkaqQ3TpTcmNz6YkIHnrXP2e+IL0B1vqRQIgEpQ8IDp3pHIkSPMW1VEaswZ6vcGNH43wBTF/YgtiKvM="}]}}';
