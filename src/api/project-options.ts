/**
 * Project options in the API, with Sentry's field names: the data-scrubbing settings on the
 * project object (`dataScrubber`, `dataScrubberDefaults`, `sensitiveFields`, `safeFields`,
 * `scrubIPAddresses`) and the inbound filters under `/filters/`. Validation errors are 400s that
 * name the field, as Sentry's serializers do.
 */
import { parseProjectOptions, type ProjectOptions } from '../db/models/project-options.js';
import { badRequest } from './errors.js';

export const OPTION_FIELDS = ['dataScrubber', 'dataScrubberDefaults', 'sensitiveFields', 'safeFields', 'scrubIPAddresses', 'rateLimitPerMinute'] as const;

export function serializeProjectOptions(json: string) {
  const o = parseProjectOptions(json);
  return {
    dataScrubber: o.dataScrubber,
    dataScrubberDefaults: o.dataScrubberDefaults,
    sensitiveFields: o.sensitiveFields,
    safeFields: o.safeFields,
    scrubIPAddresses: o.scrubIPAddresses,
    rateLimitPerMinute: o.rateLimitPerMinute,
  };
}

function strings(field: string, v: unknown): string[] {
  // Sentry accepts a list, or newline-separated text from its settings form.
  const list = typeof v === 'string' ? v.split('\n') : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x.length > 200) || list.length > 200) {
    throw badRequest(`Invalid ${field}`, { [field]: ['Expected a list of strings of at most 200 characters.'] });
  }
  return list.map((x: string) => x.trim()).filter(Boolean);
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw badRequest(`Invalid ${field}`, { [field]: ['Must be a valid boolean.'] });
  return v;
}

/** Applies the option fields present in a PUT body; returns the new JSON, or null if none was given. */
export function updatedOptions(current: string, body: Record<string, unknown>): string | null {
  if (!OPTION_FIELDS.some((f) => body[f] !== undefined)) return null;
  const o: ProjectOptions = parseProjectOptions(current);
  if (body.dataScrubber !== undefined) o.dataScrubber = bool('dataScrubber', body.dataScrubber);
  if (body.dataScrubberDefaults !== undefined) o.dataScrubberDefaults = bool('dataScrubberDefaults', body.dataScrubberDefaults);
  if (body.scrubIPAddresses !== undefined) o.scrubIPAddresses = bool('scrubIPAddresses', body.scrubIPAddresses);
  if (body.sensitiveFields !== undefined) o.sensitiveFields = strings('sensitiveFields', body.sensitiveFields);
  if (body.safeFields !== undefined) o.safeFields = strings('safeFields', body.safeFields);
  if (body.rateLimitPerMinute !== undefined) {
    const v = body.rateLimitPerMinute;
    if (v !== null && !(Number.isInteger(v) && (v as number) >= 0)) {
      throw badRequest('Invalid rateLimitPerMinute', { rateLimitPerMinute: ['Expected a whole number of events per minute, or null.'] });
    }
    o.rateLimitPerMinute = v as number | null;
  }
  return JSON.stringify(o);
}
