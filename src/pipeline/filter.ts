/**
 * Step: inbound filters (Sentry's project "Inbound Filters", evaluated as Relay's `relay-filter`
 * does): events from localhost, browser extensions, legacy browsers and web crawlers, and events
 * whose message matches a project pattern, are dropped before they are stored and counted as
 * outcome `filtered` with the filter's id as reason.
 * Left out: release and IP-range filters, and Relay's per-browser legacy sub-filters.
 */
import type { NormalizedEvent } from '../protocol/index.js';
import type { ProjectOptions } from '../db/models/project-options.js';

/** Messages of errors that come from browser extensions and injected scripts (relay-filter `browser_extensions.rs`). */
const EXTENSION_MESSAGES = [
  'top.GLOBALS', 'originalCreateNotification', 'canvas.contentDocument', 'MyApp_RemoveAllHighlights', 'http://tt.epicplay.com',
  "Can't find variable: ZiteReader", 'jigsaw is not defined', 'ComboSearch is not defined', 'http://loading.retry.widdit.com/',
  'atomicFindClose', 'fb_xd_fragment', 'bmi_SafeAddOnload', 'EBCallBackMessageReceived', 'conduitPage',
  'Script error.', 'Non-Error promise rejection captured with value: Object Not Found Matching Id',
];
const EXTENSION_URL = /^(chrome(-extension)?|moz-extension|safari(-web)?-extension|ms-browser-extension|resource|webkit-masked-url):\/\//i;
const CRAWLERS =
  /(googlebot|bingbot|slurp|duckduckbot|baiduspider|yandex(bot|images)|sogou|exabot|facebot|facebookexternalhit|ia_archiver|ahrefsbot|semrushbot|mj12bot|applebot|petalbot|bytespider|gptbot|pingdom|uptimerobot|lighthouse|headlesschrome|phantomjs|\bbot\b|crawler|spider)/i;

function exceptionTexts(e: NormalizedEvent): string[] {
  return (e.exception?.values ?? []).map((v) => [v.type, v.value].filter(Boolean).join(': '));
}

function frames(e: NormalizedEvent) {
  return (e.exception?.values ?? []).flatMap((v) => v.stacktrace?.frames ?? []);
}

function header(e: NormalizedEvent, name: string): string | null {
  const h = e.request?.headers;
  if (!Array.isArray(h)) return null;
  const hit = h.find(([k]) => k.toLowerCase() === name);
  return hit ? String(hit[1]) : null;
}

function isLocalhost(e: NormalizedEvent): boolean {
  const ip = e.user?.ip_address;
  if (ip === '127.0.0.1' || ip === '::1') return true;
  try {
    const host = e.request?.url ? new URL(e.request.url).hostname : null;
    return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  } catch {
    return false;
  }
}

function isExtension(e: NormalizedEvent): boolean {
  const texts = exceptionTexts(e);
  if (texts.some((t) => EXTENSION_MESSAGES.some((m) => t.includes(m)))) return true;
  return frames(e).some((f) => EXTENSION_URL.test(String(f.abs_path ?? f.filename ?? '')));
}

function isLegacyBrowser(e: NormalizedEvent): boolean {
  const b = e.contexts?.browser as { name?: string; version?: string } | undefined;
  if (!b?.name) return false;
  const major = Number.parseInt(String(b.version ?? ''), 10);
  const name = b.name.toLowerCase();
  if (name === 'ie' || name === 'internet explorer') return true;
  if (!Number.isFinite(major)) return false;
  return (name === 'opera' && major < 15) || (name === 'safari' && major < 6) || (name === 'android' && major < 4) || (name === 'opera mini' && major < 8);
}

function isCrawler(e: NormalizedEvent): boolean {
  const ua = header(e, 'user-agent');
  return ua !== null && CRAWLERS.test(ua);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${body}$`, 'is');
}

/** The filter that drops this event, or null when it is kept. */
export function inboundFilterReason(e: NormalizedEvent, opts: ProjectOptions): string | null {
  const f = opts.filters;
  if (f.localhost && isLocalhost(e)) return 'localhost';
  if (f['browser-extensions'] && isExtension(e)) return 'browser-extensions';
  if (f['legacy-browsers'] && isLegacyBrowser(e)) return 'legacy-browsers';
  if (f['web-crawlers'] && isCrawler(e)) return 'web-crawlers';
  if (f.errorMessages.length) {
    const texts = [...exceptionTexts(e), e.logentry?.formatted ?? e.logentry?.message ?? ''].filter(Boolean);
    const patterns = f.errorMessages.map(globToRegExp);
    if (texts.some((t) => patterns.some((p) => p.test(t)))) return 'error-message';
  }
  return null;
}
