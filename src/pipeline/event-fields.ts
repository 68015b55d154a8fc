/** Small derived fields of a normalized event, shared by the save step and the web API. */
import type { NormalizedEvent } from '../protocol/index.js';

/** The searchable message: the log message, else the exception values (Sentry's `message` column). */
export function eventMessage(event: NormalizedEvent): string {
  const formatted = event.logentry?.formatted ?? event.logentry?.message;
  if (formatted) return formatted;
  const values = event.exception?.values ?? [];
  return values
    .map((v) => [v.type, v.value].filter(Boolean).join(': '))
    .filter(Boolean)
    .join('\n');
}
