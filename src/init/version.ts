/** The version shown in the banner: injected by the bundler (esbuild `define`), "dev" from source. */
declare const SHELLFREE_INIT_VERSION: string | undefined;

export const INIT_VERSION: string =
  typeof SHELLFREE_INIT_VERSION === "string" ? SHELLFREE_INIT_VERSION : "dev";
