import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the Python subsystem. Codes:
 * - E_REQUIREMENTS: a requirements file line is not pinned/hashed or cannot be parsed (file:line)
 * - E_PYLOCK: a pylock.toml or uv.lock cannot be used (file: package)
 * - E_MARKER: an environment marker cannot be parsed
 * - E_PY_VERSION: a PEP 440 version cannot be parsed
 * - E_WHEEL_NAME: a wheel filename is malformed
 * - E_NO_WHEEL: no wheel fits the target (only an sdist, or no matching tags)
 * - E_PY_INDEX: a simple index cannot be read or its answer is malformed
 * - E_PY_HASH: downloaded or local wheel bytes match none of the allowed hashes (exit 3)
 * - E_WHEEL: a wheel archive is unsafe or inconsistent (zip-slip, RECORD, WHEEL version)
 * - E_PY_CONFLICT: two wheels install the same path
 * - E_BYTECODE: compiling bytecode with the image's interpreter failed
 * - E_PY_TARGET: the target (architecture, Python or glibc version) cannot be used
 * - E_WHEEL_DIR: a wheel directory cannot be read
 * - E_PY_LOCKED: `build --locked`: the lockfile's wheels disagree with the requirements
 * - E_NETWORK / E_HTTP / E_NOT_FOUND: from src/util/http.ts (index pages, downloads)
 */
export class PythonError extends ShellfreeError {}
