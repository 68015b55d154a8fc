/**
 * Fingerprints: the client (or rule-set) `fingerprint` array, its `{{ variables }}`, and how it
 * turns component variants into custom, built-in or salted ("hybrid") variants.
 *
 * Follows `src/sentry/grouping/utils.py` (resolve_fingerprint_variable with the 2023-01-11
 * "legacy unknown variable" handling: unknown variables are kept verbatim) and `variants.py`
 * (SaltedComponentVariant, CustomFingerprintVariant). `{{ release }}` is deliberately not resolved:
 * Sentry's resolver has no such variable, so under 2023-01-11 it stays verbatim in the hash.
 */
import { hashFromValues, iterValues, type GroupingComponent } from './components.js';
import { crashFrame, type EventView } from './event-view.js';
import { str } from './frame.js';

const VARIABLE_RE = /^\{\{\s*(\S+)\s*\}\}$/;
/** The canonical `{{ default }}` entry. */
export const DEFAULT_FINGERPRINT_VARIABLE = '{{ default }}';

/** The variable name of a `{{ name }}` entry, or null for a literal. */
export function parseFingerprintVariable(entry: string): string | null {
  const m = VARIABLE_RE.exec(entry);
  return m ? m[1] : null;
}

/** `default` (only `{{ default }}`), `hybrid` (`{{ default }}` plus more) or `custom`. */
export function fingerprintType(fingerprint: string[]): 'default' | 'hybrid' | 'custom' {
  const isDefault = (e: string) => parseFingerprintVariable(e) === 'default';
  if (fingerprint.length === 1 && isDefault(fingerprint[0])) return 'default';
  return fingerprint.some(isDefault) ? 'hybrid' : 'custom';
}

/** Resolves one fingerprint variable; null when unknown (the entry is then kept as written). */
export function resolveVariable(key: string, view: EventView): string | null {
  const event = view.event;
  const lastExc = view.exceptions[view.exceptions.length - 1];
  switch (key) {
    case 'transaction':
      return str(event.transaction) || '<no-transaction>';
    case 'message':
      return view.logentry?.formatted || view.logentry?.message || lastExc?.value || '<no-message>';
    case 'type':
    case 'error.type':
      return lastExc?.type || '<no-type>';
    case 'value':
    case 'error.value':
      return lastExc?.value || '<no-value>';
    case 'function':
    case 'stack.function':
      return crashFrame(view)?.function || '<no-function>';
    case 'path':
    case 'stack.abs_path': {
      const f = crashFrame(view);
      return (f && (f.abs_path || f.filename)) || '<no-abs-path>';
    }
    case 'stack.filename': {
      const f = crashFrame(view);
      return (f && (f.filename || f.abs_path)) || '<no-filename>';
    }
    case 'module':
    case 'stack.module':
      return crashFrame(view)?.module || '<no-module>';
    case 'package':
    case 'stack.package': {
      const pkg = crashFrame(view)?.package;
      return (pkg && pkg.split('/').pop()!.split('\\').pop()) || '<no-package>';
    }
    case 'level':
      return str(event.level) || '<no-level>';
    case 'logger':
      return str(event.logger) || '<no-logger>';
    default:
      if (key.startsWith('tags.')) {
        const name = key.slice(5);
        const tag = view.tags.find(([k, v]) => k === name && v !== null);
        return tag ? tag[1]! : `<no-value-for-tag-${name}>`;
      }
      return null;
  }
}

/** Resolves every entry: `{{ default }}` stays (canonical form), literals stay, variables resolve. */
export function resolveFingerprint(fingerprint: string[], view: EventView): string[] {
  return fingerprint.map((entry) => {
    const key = parseFingerprintVariable(entry);
    if (key === 'default') return DEFAULT_FINGERPRINT_VARIABLE;
    if (key === null) return entry;
    return resolveVariable(key, view) ?? entry;
  });
}

/** Expands `{{ var }}` inside a rule's `title="…"` attribute. */
export function expandTitleTemplate(template: string, view: EventView): string {
  return template.replace(/\{\{\s*(\S+)\s*\}\}/g, (whole, key: string) => resolveVariable(key, view) ?? whole);
}

/** The hash of a hybrid fingerprint: `{{ default }}` becomes the component's contributing values. */
export function saltedHash(fingerprint: string[], component: GroupingComponent): string | null {
  if (!component.contributes) return null;
  const values: string[] = [];
  for (const entry of fingerprint) {
    if (parseFingerprintVariable(entry) === 'default') values.push(...iterValues(component));
    else values.push(entry);
  }
  return hashFromValues(values);
}
