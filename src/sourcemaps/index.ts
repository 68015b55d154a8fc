/** Source maps: artifact bundles and release files (upload side), and JS frame resolution. */
export { assembleBundle, type AssembleRequest, type AssembleResponse } from './assemble.js';
export { indexFiles } from './artifacts.js';
export { deleteStaleChunks, existingBlobs, putBlob, sha1Hex } from './blobs.js';
export { BundleError, parseBundle, normalizeDebugId } from './bundle.js';
export * as limits from './limits.js';
export { SourceCache } from './source-cache.js';
export { symbolicateEvent, type SymbolicateScope } from './symbolicate.js';
