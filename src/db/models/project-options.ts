/**
 * Project settings kept in `projects.options` (JSON), with Sentry's names and defaults: data
 * scrubbing is on by default, as in Sentry; inbound filters are off until a user turns them on,
 * so nothing is dropped silently. Unknown keys are ignored; bad values fall back to defaults.
 */
import { z } from 'zod';

const stringList = z.array(z.string().max(200)).max(200);

export const projectOptionsSchema = z.object({
  /** Server-side data scrubbing (Sentry `dataScrubber`). */
  dataScrubber: z.boolean().default(true),
  /** Use Sentry's default sensitive fields and value patterns (`dataScrubberDefaults`). */
  dataScrubberDefaults: z.boolean().default(true),
  /** Extra key names to scrub (`sensitiveFields`). */
  sensitiveFields: stringList.default([]),
  /** Key names never scrubbed (`safeFields`). */
  safeFields: stringList.default([]),
  /** Remove IP addresses from events (`scrubIPAddresses`); the client IP is then not stored. */
  scrubIPAddresses: z.boolean().default(false),
  /** Events (errors and transactions) the project accepts per minute across all its keys; null: no limit. */
  rateLimitPerMinute: z.number().int().min(0).nullable().default(null),
  /** Inbound filters (Sentry's `filters/{id}`); dropped events are counted, not stored. */
  filters: z
    .object({
      'browser-extensions': z.boolean().default(false),
      localhost: z.boolean().default(false),
      'legacy-browsers': z.boolean().default(false),
      'web-crawlers': z.boolean().default(false),
      /** Glob patterns on the error message (`filters:error_messages`). */
      errorMessages: stringList.default([]),
    })
    .default({ 'browser-extensions': false, localhost: false, 'legacy-browsers': false, 'web-crawlers': false, errorMessages: [] }),
});

export type ProjectOptions = z.infer<typeof projectOptionsSchema>;
export const INBOUND_FILTERS = ['browser-extensions', 'localhost', 'legacy-browsers', 'web-crawlers'] as const;
export type InboundFilterId = (typeof INBOUND_FILTERS)[number];

/** Reads stored options; anything unreadable yields the defaults rather than an error. */
export function parseProjectOptions(json: string | null | undefined): ProjectOptions {
  let raw: unknown;
  try {
    raw = json ? JSON.parse(json) : {};
  } catch {
    raw = {};
  }
  const parsed = projectOptionsSchema.safeParse(raw);
  return parsed.success ? parsed.data : projectOptionsSchema.parse({});
}
