/**
 * Message parameterization: replaces event-specific values (numbers, ids, dates, urls, …) in a
 * message or exception value with placeholders such as `<int>`, so that similar messages group.
 *
 * Follows Sentry's `src/sentry/grouping/parameterization.py` (DEFAULT_PARAMETERIZATION_REGEXES,
 * 2025): one combined regex whose alternatives are tried in this order, each match replaced by
 * `<name>`. Python's `re` is Unicode-aware (`\d`, `\w`, `\b` cover all scripts), so the verbose
 * Python patterns below are translated into equivalent `u`-flag JavaScript. Leaves out Sentry's
 * experimental patterns and the `uniq_id` token experiment, which only run for opted-in projects.
 */

const TLDS =
  'COM|NET|ORG|JP|DE|UK|FR|BR|IT|RU|ES|ME|GOV|PL|CA|AU|CN|CO|IN|NL|EDU|INFO|EU|CH|ID|AT|KR|CZ|MX|BE|TV|SE|TR|TW|AL|UA|IR|VN|CL|SK|LY|CC|TO|NO|FI|US|PT|DK|AR|HU|TK|GR|IL|NEWS|RO|MY|BIZ|IE|ZA|NZ|SG|EE|TH|IO|XYZ|PE|BG|HK|RS|LT|LINK|PH|CLUB|SI|SITE|MOBI|BY|CAT|WIKI|LA|GA|XXX|CF|HR|NG|JOBS|ONLINE|KZ|UG|GQ|AE|IS|LV|PRO|FM|TIPS|MS|SA|APP';

const IPV4 = String.raw`((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])`;
const MON = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const DAY = 'Sun|Mon|Tue|Wed|Thu|Fri|Sat';
const ZONE = String.raw`(?:UT|GMT|(?:E|C|M|P)(?:ST|DT)|[A-IK-Z])`;

/** [name, verbose Python pattern, lookbehind] in Sentry's order. */
const PATTERNS: [string, string, string?][] = [
  ['email', "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*"],
  ['url', String.raw`\b(wss?|https?|ftp)://[^\s/$.?#].[^\s]*`],
  ['hostname', String.raw`\b([a-zA-Z0-9\-]{1,63}\.)+?((${TLDS})|(${TLDS.toLowerCase()}))\b`],
  [
    'ip',
    String.raw`(?<![0-9a-zA-Z_])(
      ([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|
      ([0-9a-fA-F]{1,4}:){1,7}:|
      ([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|
      ([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|
      ([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|
      ([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|
      ([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|
      [0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|
      :((:[0-9a-fA-F]{1,4}){1,7}|:)|
      fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|
      ::(ffff(:0{1,4}){0,1}:){0,1}${IPV4}|
      ([0-9a-fA-F]{1,4}:){1,4}:${IPV4}\b
    )(?![0-9a-zA-Z])|(\b${IPV4}\b)`,
  ],
  ['traceparent', String.raw`(\b00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]\b)|(\b1-[0-9a-f]{8}-[0-9a-f]{24}\b)`],
  ['uuid', String.raw`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`],
  ['sha1', String.raw`\b[0-9a-fA-F]{40}\b`],
  ['md5', String.raw`\b[0-9a-fA-F]{32}\b`],
  [
    'date',
    String.raw`
      ((?:${DAY}),\s\d{1,2}\s(?:${MON})\s\d{2,4}\s\d{1,2}:\d{1,2}(:\d{1,2})?\s([-\+][\d]{2}[0-5][\d]|${ZONE}))
      | (((?:${DAY})\s)?(?:${MON})\s[0-3]\d,\s\d{2,4})
      | ((?:Sun|Sunday|Mon|Monday|Tue|Tuesday|Wed|Wednesday|Thu|Thursday|Fri|Friday|Sat|Saturday),\s\d{2}-(?:${MON})-\d{2}\s\d{2}:\d{2}:\d{2}\s${ZONE})
      | (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?([+-]?\d{2}:\d{2})?)
      | ((?:${DAY})\s(?:${MON})\s\d{2}\s\d{4}\s\d{2}:\d{2}:\d{2}\sGMT[+-]\d{4}(?:\s\([^)]+\))?)
      | ((\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d\.\d+([+-][0-2]\d:?[0-5]\d|Z))
        |(\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d([+-][0-2]\d:?[0-5]\d|Z))
        |(\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d([+-][0-2]\d:?[0-5]\d|Z)))
      | ((\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d\.\d+)
        |(\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d)
        |(\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d))
      | ((?<!\d)([1-9]|1[0-2]):[0-5]\d(:[0-5]\d)?(?![\d:])(?:\s?[aApP][Mm])?)
      | ((?<!\d)(0?\d|1\d|2[0-3]):[0-5]\d(:[0-5]\d)?(?![\d:]))
      | (\d{4}-[01]\d-[0-3]\d)
      | ([0-2]\d:[0-5]\d:[0-5]\d)
      | (\b(?:(${DAY})\s+)?(${MON})\s+([\d]{1,2})\s+([\d]{2}:[\d]{2}:[\d]{2})\s+[\d]{4})
      | (\b(?:(${DAY}),\s+)?(0[1-9]|[1-2]?[\d]|3[01])\s+(${MON})\s+(19[\d]{2}|[2-9][\d]{3})\s+(2[0-3]|[0-1][\d]):([0-5][\d])(?::(60|[0-5][\d]))?\s+([-\+][\d]{2}[0-5][\d]|${ZONE}))
      | (datetime.datetime\(.*?\))`,
  ],
  ['duration', String.raw`\b(\d+ms) | (\d+(\.\d+)?s)\b`],
  ['swift_txn_id', String.raw`(\btx[0-9a-f]{21}-[0-9a-f]{10}\S*)`],
  [
    'hex',
    String.raw`(\b0[xX][0-9a-fA-F]+\b) |
      (\b|(?<!\w)-)
      ((?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{4,6} | (?=[A-F]*[0-9])(?=[0-9]*[A-F])[0-9A-F]{4,6} | [0-9a-f]{8,128} | [0-9A-F]{8,128})
      \b`,
  ],
  ['git_sha', String.raw`(\b(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{7}\b)`],
  ['float', String.raw`-\d+\.\d+\b | \b\d+\.\d+\b`],
  ['int', String.raw`(\b|(?<!\w)-)\d{1,7}\b`],
  ['quoted_str', String.raw`'([^']+)' | "([^"]+)"`, '='],
  ['bool', String.raw`True | true | False | false`, '='],
];

const WORD = String.raw`[\p{L}\p{N}_]`;
const BOUNDARY = `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`;

/**
 * Translates a verbose (`(?x)`) Python pattern into a JavaScript `u` pattern: drops unescaped
 * whitespace and comments outside character classes, and maps `\d`, `\w`, `\b` to their Unicode
 * meaning in Python 3.
 */
export function translatePythonPattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      const next = pattern[i + 1];
      i++;
      if (next === 'd') out += inClass ? String.raw`\p{Nd}` : String.raw`\p{Nd}`;
      else if (next === 'w') out += inClass ? String.raw`\p{L}\p{N}_` : WORD;
      else if (next === 'b' && !inClass) out += BOUNDARY;
      else if (next === '-' && !inClass) out += '-';
      else out += '\\' + next;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      // A leading `]` or `^]` is literal in Python classes.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += '\\' + pattern[++i];
      continue;
    }
    if (/\s/.test(ch)) continue;
    if (ch === '#') {
      while (i < pattern.length && pattern[i] !== '\n') i++;
      continue;
    }
    out += ch;
  }
  return out;
}

const COMBINED = new RegExp(
  PATTERNS.map(([name, raw, lookbehind]) => {
    const prefix = lookbehind ? `(?<=${lookbehind})` : '';
    return `${prefix}(?<${name}>${translatePythonPattern(raw)})`;
  }).join('|'),
  'gu',
);
const NAMES = PATTERNS.map(([name]) => name);

/**
 * Sentry's message parameterization: every email, url, hostname, ip, trace id, uuid, sha1, md5,
 * date, duration, hex value, git sha, float, int, and `=`-prefixed quoted string or boolean is
 * replaced by `<kind>`. For example `"testing testing 1, 2, 3"` → `"testing testing <int>, <int>, <int>"`.
 */
export function parameterize(message: string): string {
  if (typeof message !== 'string' || message === '') return typeof message === 'string' ? message : '';
  return message.replace(COMBINED, (...args: unknown[]) => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    for (const name of NAMES) {
      if (groups[name] !== undefined) return groups[name] === '' ? '' : `<${name}>`;
    }
    return '';
  });
}
