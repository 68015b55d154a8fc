/**
 * Identifier helpers: Sentry's UUIDs (event ids, session ids) in their canonical form.
 *
 * Sentry stores and answers ids as 32 lowercase hex characters without dashes
 * (protocol.md §1.3, §3.1). SDKs send both forms: sentry-cli sends a dashed `event_id` in the
 * envelope header, sentry-python 1.9 sends dashed session `sid`s (captures). Relay's `EventId`
 * deserializes any `uuid::Uuid` textual form; we accept the two that occur in practice (simple
 * and hyphenated, any case) and leave out the braced and `urn:uuid:` forms.
 */
import { randomUUID } from 'node:crypto';

const SIMPLE = /^[0-9a-f]{32}$/i;
const HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Normalizes a UUID to 32 lowercase hex characters.
 * @returns the canonical id, or `null` when `s` is not a 32-hex or dashed 36-character UUID.
 */
export function normalizeUuid(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const t = s.trim();
  if (SIMPLE.test(t)) return t.toLowerCase();
  if (HYPHENATED.test(t)) return t.replace(/-/g, '').toLowerCase();
  return null;
}

/** A fresh random (v4) event id in canonical form, as Relay generates for events without one. */
export function newEventId(): string {
  return randomUUID().replace(/-/g, '');
}
