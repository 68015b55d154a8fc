/**
 * Sentry's issue search language, parsed into filters (docs.sentry.io "Search"; protocol.md §8.4):
 * `key:value` tokens ANDed with free text, `!key:value` negation, `key:"quoted value"`,
 * `key:[a, b]` lists, `*` wildcards, and `>`, `<`, `>=`, `<=` on numbers, durations and dates.
 * OR, AND and parentheses are not part of issue search, as in Sentry. Pure; no I/O.
 */

export type Operator = '=' | '>' | '<' | '>=' | '<=';

export interface SearchFilter {
  key: string;
  op: Operator;
  values: string[];
  negated: boolean;
}

export interface ParsedSearch {
  filters: SearchFilter[];
  /** Free-text terms, matched as substrings of the title and culprit. */
  text: string[];
}

export class SearchQueryError extends Error {}

/** Splits on whitespace outside quotes and brackets. */
function tokenize(query: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let quote = false;
  let bracket = 0;
  for (const ch of query) {
    if (ch === '"') quote = !quote;
    else if (!quote && ch === '[') bracket++;
    else if (!quote && ch === ']') bracket = Math.max(0, bracket - 1);
    if (!quote && bracket === 0 && /\s/.test(ch)) {
      if (cur) tokens.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quote) throw new SearchQueryError('unterminated quote in search query');
  if (cur) tokens.push(cur);
  return tokens;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\"/g, '"') : s;
}

const FILTER = /^(!?)((?:tags\[[^\]]+\])|[A-Za-z_][\w.-]*):(.*)$/s;

export function parseSearch(query: string): ParsedSearch {
  const out: ParsedSearch = { filters: [], text: [] };
  for (const token of tokenize(query.trim())) {
    const m = FILTER.exec(token);
    if (!m || m[3] === '') {
      const text = unquote(token);
      if (text) out.text.push(text);
      continue;
    }
    let key = m[2];
    const tagMatch = /^tags\[(.+)\]$/.exec(key);
    if (tagMatch) key = `tags[${tagMatch[1]}]`;
    let raw = m[3];
    let op: Operator = '=';
    const cmp = /^(>=|<=|>|<)(.*)$/s.exec(raw);
    if (cmp && !raw.startsWith('"')) {
      op = cmp[1] as Operator;
      raw = cmp[2];
    }
    let values: string[];
    if (raw.startsWith('[') && raw.endsWith(']')) {
      values = raw.slice(1, -1).split(',').map((v) => unquote(v.trim())).filter((v) => v !== '');
      if (values.length === 0) throw new SearchQueryError(`empty list for ${key}`);
    } else {
      values = [unquote(raw)];
    }
    out.filters.push({ key, op, values, negated: m[1] === '!' });
  }
  return out;
}

const DURATION = /^([+-]?)(\d+)([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Resolves a relative (`-24h`, `+7d`) or absolute (ISO) time to a comparison on a timestamp.
 * Sentry's `age:-24h` means "first seen within the last 24 hours"; `+24h` means "older than".
 */
export function timeCondition(f: SearchFilter, now: number): { op: Operator; at: number } {
  const v = f.values[0];
  const d = DURATION.exec(v);
  if (d) {
    const at = now - Number(d[2]) * UNIT_MS[d[3]];
    if (f.op !== '=') return { op: f.op === '>' || f.op === '>=' ? '<' : '>', at };
    return { op: d[1] === '+' ? '<' : '>=', at };
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new SearchQueryError(`invalid date or duration for ${f.key}: ${v}`);
  return { op: f.op === '=' ? '>=' : f.op, at: t };
}
