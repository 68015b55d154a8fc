/**
 * The `message:v1` strategy and message normalization (trimming + parameterization), also used
 * for exception values.
 *
 * Follows `src/sentry/grouping/strategies/message.py` and `grouping/utils.py`
 * (`normalize_message_for_grouping`): keep the first two non-empty lines, add "..." if that changed
 * anything, then parameterize. The strategy groups by the log template (`logentry.message`, e.g.
 * "Error %s") before the formatted text. Leaves out Sentry's opt-in experimental parameterizer.
 */
import { type GroupingComponent, makeComponent } from './components.js';
import { parameterize } from './parameterize.js';

/** Python's `str.splitlines()` line boundaries. */
const LINE_BREAKS = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Trims a message to its first two non-empty lines (plus "..." if anything changed) and parameterizes it. */
export function normalizeMessage(message: string): string {
  const lines = message.split(LINE_BREAKS);
  // `splitlines()` drops the empty string after a trailing line break.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  let trimmed = lines
    .filter((l) => l.trim() !== '')
    .slice(0, 2)
    .join('\n');
  if (trimmed !== message) trimmed += '...';
  return parameterize(trimmed);
}

/** Builds the `default` variant's `message` component from a log entry. */
export function messageComponent(logentry: { message: string | null; formatted: string | null }): GroupingComponent {
  const raw = logentry.message || logentry.formatted || '';
  const normalized = normalizeMessage(raw);
  return makeComponent('message', [normalized], { hint: raw !== normalized ? 'stripped event-specific values' : null });
}
