/**
 * Context lines for a frame: the line itself and up to 5 before and after (Sentry's
 * `get_source_context`). Minified lines can be megabytes long, so for the raw (minified) frame
 * only ~150 characters around the column are kept, as Sentry's `trim_context_lines` does.
 *
 * Left out: syntax highlighting and the `{snip}` markers' exact placement rules.
 */
import type { Frame } from '../protocol/index.js';

const CONTEXT = 5;
const MAX_LINE = 500;

function lineStarts(text: string, line: number, before: number, after: number): string[] {
  // Splitting a whole file is cheap next to parsing its map, and files are bounded in size.
  const lines = text.split(/\r?\n/);
  return lines.slice(Math.max(0, line - 1 - before), Math.min(lines.length, line + after));
}

function trim(s: string, col: number | null): string {
  if (s.length <= MAX_LINE && col === null) return s;
  if (col === null) return `${s.slice(0, MAX_LINE)} {snip}`;
  if (s.length <= 150) return s;
  const start = Math.max(0, col - 75);
  const end = Math.min(s.length, start + 150);
  return `${start > 0 ? '{snip} ' : ''}${s.slice(start, end)}${end < s.length ? ' {snip}' : ''}`;
}

export function applyContext(frame: Frame, text: string, line: number): void {
  const lines = text.split(/\r?\n/);
  if (line < 1 || line > lines.length) return;
  frame.pre_context = lines.slice(Math.max(0, line - 1 - CONTEXT), line - 1).map((l) => trim(l, null));
  frame.context_line = trim(lines[line - 1], null);
  frame.post_context = lines.slice(line, line + CONTEXT).map((l) => trim(l, null));
}

export function applyMinifiedContext(frame: Frame, text: string): void {
  const line = frame.lineno;
  if (typeof line !== 'number' || line < 1) return;
  const col = Math.max(0, (frame.colno ?? 1) - 1);
  const window = lineStarts(text, line, CONTEXT, CONTEXT);
  const idx = Math.min(line - 1, CONTEXT);
  if (idx >= window.length) return;
  frame.pre_context = window.slice(0, idx).map((l) => trim(l, 0));
  frame.context_line = trim(window[idx], col);
  frame.post_context = window.slice(idx + 1).map((l) => trim(l, 0));
}
