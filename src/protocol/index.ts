/**
 * The public surface of `src/protocol/`: Sentry's wire protocol as pure functions (DSN, auth,
 * body decoding, envelope codec, JSON, event normalization). Other folders import only this file.
 */
export * from './auth.js';
export * from './decode.js';
export * from './dsn.js';
export * from './envelope.js';
export * from './errors.js';
export * from './event.js';
export { framesChanged, framesText, inAppFlag, inAppFlags, isUnparsed, keptText, rememberStack, type Kept } from './frames-text.js';
export * from './ids.js';
export * from './json.js';
export * from './normalize.js';
export { MAX_BREADCRUMBS, formatParams } from './normalize-parts.js';
export { parseCookieString, parseQueryString } from './normalize-request.js';
export { userTagValue } from './normalize-tags.js';
export { MAX_CHARS, parseLevel, parseTimestamp } from './normalize-values.js';
export * from './user-agent.js';
