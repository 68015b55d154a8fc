/**
 * A deliberately small User-Agent parser for the `browser` and `os` contexts Relay derives when
 * the SDK sent none (relay-event-normalization `normalize/user_agent.rs`, which uses the uap-core
 * regexes). Names follow uap-core's spelling (`Mac OS X`, `Chrome Mobile`, `Mobile Safari`) so
 * tags match what Sentry shows.
 * Left out: devices, bots, client hints and the long tail of browsers (the full uap-core list is
 * thousands of regexes); unknown agents yield nothing rather than a wrong guess.
 */

/** A `{name, version}` pair as stored in `contexts.browser` / `contexts.os`. */
export interface UaPart {
  name: string;
  version?: string;
}

/** What {@link parseUserAgent} recognized. */
export interface ParsedUserAgent {
  browser?: UaPart;
  os?: UaPart;
}

/** uap-core reports major.minor.patch; Relay joins the parts that are present. */
function version(v: string | undefined, parts = 3): string | undefined {
  if (!v) return undefined;
  return v.replace(/_/g, '.').split('.').slice(0, parts).join('.');
}

function part(name: string, v: string | undefined, parts?: number): UaPart {
  const out: UaPart = { name };
  const ver = version(v, parts);
  if (ver) out.version = ver;
  return out;
}

function browser(ua: string): UaPart | undefined {
  let m: RegExpExecArray | null;
  const mobile = /Mobile/.test(ua);
  if ((m = /\bEdg(?:e|A|iOS)?\/([\d.]+)/.exec(ua))) return part('Edge', m[1]);
  if ((m = /\bOPR\/([\d.]+)/.exec(ua))) return part('Opera', m[1]);
  if ((m = /\bFirefox\/([\d.]+)/.exec(ua))) return part(mobile ? 'Firefox Mobile' : 'Firefox', m[1]);
  if ((m = /\bFxiOS\/([\d.]+)/.exec(ua))) return part('Firefox iOS', m[1]);
  if ((m = /\bCriOS\/([\d.]+)/.exec(ua))) return part('Chrome Mobile iOS', m[1]);
  if ((m = /\bChrome\/([\d.]+)/.exec(ua))) return part(mobile ? 'Chrome Mobile' : 'Chrome', m[1]);
  if ((m = /\bVersion\/([\d.]+).*\bSafari\//.exec(ua))) return part(mobile ? 'Mobile Safari' : 'Safari', m[1]);
  return undefined;
}

const WINDOWS_NT: Record<string, string> = { '10.0': '10', '6.3': '8.1', '6.2': '8', '6.1': '7', '6.0': 'Vista', '5.1': 'XP' };

function os(ua: string): UaPart | undefined {
  let m: RegExpExecArray | null;
  if ((m = /\bWindows NT (\d+\.\d+)/.exec(ua))) return part('Windows', WINDOWS_NT[m[1]] ?? m[1]);
  if ((m = /\b(?:iPhone|CPU) OS (\d+(?:_\d+)*)/.exec(ua))) return part('iOS', m[1]);
  if ((m = /\biPad.*\bOS (\d+(?:_\d+)*)/.exec(ua))) return part('iOS', m[1]);
  if ((m = /\bMac OS X (\d+(?:[_.]\d+)*)/.exec(ua))) return part('Mac OS X', m[1]);
  if ((m = /\bAndroid (\d+(?:\.\d+)*)/.exec(ua))) return part('Android', m[1]);
  if (/\bCrOS\b/.test(ua)) return { name: 'Chrome OS' };
  if (/\bLinux\b/.test(ua)) return { name: 'Linux' };
  return undefined;
}

/**
 * Recognizes the browser and OS of common browser User-Agent strings.
 * @returns the parts it recognized; `{}` for SDK, bot or unknown agents.
 */
export function parseUserAgent(ua: string | null | undefined): ParsedUserAgent {
  if (!ua || ua.length > 1024) return {};
  const out: ParsedUserAgent = {};
  // Only browser-like agents: SDKs (`sentry.python/1.9.10`), curl etc. have no `Mozilla/` prefix.
  if (!/^Mozilla\//.test(ua)) return out;
  const b = browser(ua);
  if (b) out.browser = b;
  const o = os(ua);
  if (o) out.os = o;
  return out;
}
