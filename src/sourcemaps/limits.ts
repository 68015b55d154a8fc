/**
 * The size limits of source-map uploads and symbolication, in one place. They are constants, not
 * options: they bound memory per request and per worker, and sentry-cli reads the upload ones
 * from `GET chunk-upload/` (protocol.md §6.3), so clients adapt to them.
 */

/** Bytes per chunk sentry-cli cuts a file into (Sentry's default: 8 MiB). */
export const CHUNK_SIZE = 8 * 1024 * 1024;
/** Chunks per multipart request, and the request size sentry-cli must stay under. */
export const CHUNKS_PER_REQUEST = 64;
export const MAX_REQUEST_SIZE = 32 * 1024 * 1024;
/** The HTTP body limit of the chunk POST: the advertised size plus multipart overhead. */
export const CHUNK_UPLOAD_BODY_LIMIT = MAX_REQUEST_SIZE + 1024 * 1024;
/** Largest assembled bundle (or legacy release file) accepted: it is held in memory to unzip. */
export const MAX_FILE_SIZE = 256 * 1024 * 1024;
/** Largest single file inside a bundle that is indexed; bigger ones are skipped. */
export const MAX_ARTIFACT_SIZE = 64 * 1024 * 1024;
/** Parsed source maps kept per worker, by the size of their JSON text. */
export const SOURCEMAP_CACHE_BYTES = 128 * 1024 * 1024;
/** Time budget per event: frames left when it runs out stay minified, with an error noted. */
export const SYMBOLICATE_BUDGET_MS = 5_000;
/** Un-assembled chunks older than this are garbage (see `deleteStaleChunks`). */
export const CHUNK_TTL_MS = 24 * 3600 * 1000;
