/**
 * Exceptions with their stack traces, as Sentry shows them: the last exception of a chain first,
 * the most recent call first, in-app frames highlighted, source context around the line, and a
 * toggle between app frames only, the full trace, and a raw text trace for copy-paste.
 * Every string comes from the event and is rendered as React text, never as HTML.
 */
import { useState } from 'react';
import type { ExceptionValue, Frame } from '../types';
import { show } from '../format';

type Mode = 'app' | 'full' | 'raw';

function location(f: Frame): string {
  const file = f.filename ?? f.absPath ?? f.module ?? f.package ?? '?';
  return `${file}${f.lineNo !== null ? `:${f.lineNo}` : ''}${f.colNo !== null ? `:${f.colNo}` : ''}`;
}

export function rawTrace(values: ExceptionValue[]): string {
  return values
    .slice()
    .reverse()
    .map((v) => {
      const head = `${v.type ?? 'Error'}${v.value ? `: ${v.value}` : ''}`;
      const frames = (v.stacktrace?.frames ?? []).slice().reverse();
      return [head, ...frames.map((f) => `    at ${f.function ?? '<anonymous>'} (${location(f)})`)].join('\n');
    })
    .join('\n\nCaused by / preceded by:\n');
}

function FrameRow({ frame, open, onToggle }: { frame: Frame; open: boolean; onToggle: () => void }) {
  const hasDetail = frame.context.length > 0 || (frame.vars && Object.keys(frame.vars).length > 0);
  return (
    <li className={frame.inApp ? 'frame in-app' : 'frame'}>
      <button type="button" className="frame-head" aria-expanded={hasDetail ? open : undefined} onClick={onToggle} disabled={!hasDetail}>
        <span className="frame-file mono">{frame.filename ?? frame.absPath ?? frame.module ?? frame.package ?? '?'}</span>
        {frame.function && (
          <>
            <span className="muted"> in </span>
            <span className="frame-fn mono">{frame.function}</span>
          </>
        )}
        {frame.lineNo !== null && (
          <span className="muted mono">
            {' '}
            at line {frame.lineNo}
            {frame.colNo !== null ? `:${frame.colNo}` : ''}
          </span>
        )}
        {frame.inApp && <span className="badge app">In App</span>}
      </button>
      {open && hasDetail && (
        <div className="frame-body">
          {frame.context.length > 0 && (
            <ol className="context mono" start={frame.context[0][0]}>
              {frame.context.map(([n, text]) => (
                <li key={n} className={n === frame.lineNo ? 'current' : undefined} aria-current={n === frame.lineNo ? 'true' : undefined}>
                  <span className="lineno" aria-hidden="true">
                    {n}
                  </span>
                  <span className="code">{text}</span>
                </li>
              ))}
            </ol>
          )}
          {frame.vars && Object.keys(frame.vars).length > 0 && (
            <table className="kv-table vars">
              <tbody>
                {Object.entries(frame.vars).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row" className="mono">
                      {k}
                    </th>
                    <td>
                      <pre>{show(v)}</pre>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </li>
  );
}

function Exception({ value, mode }: { value: ExceptionValue; mode: Mode }) {
  const all = (value.stacktrace?.frames ?? []).slice().reverse();
  const anyApp = all.some((f) => f.inApp);
  const frames = mode === 'app' && anyApp ? all.filter((f) => f.inApp) : all;
  const firstOpen = frames.findIndex((f) => f.context.length > 0 && (f.inApp || !anyApp));
  const [open, setOpen] = useState<Set<number>>(() => new Set(firstOpen >= 0 ? [firstOpen] : []));
  const toggle = (i: number) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });
  return (
    <div className="exception">
      <h3 className="exception-title">
        <span className="exc-type">{value.type ?? 'Error'}</span>
        {value.mechanism && value.mechanism.handled === false && <span className="badge danger">unhandled</span>}
        {value.mechanism?.type && <span className="badge">{value.mechanism.type}</span>}
      </h3>
      {value.value && <p className="exc-value">{value.value}</p>}
      {frames.length === 0 ? (
        <p className="muted small">No stack trace.</p>
      ) : (
        <ol className="frames">
          {frames.map((f, i) => (
            <FrameRow key={i} frame={f} open={open.has(i)} onToggle={() => toggle(i)} />
          ))}
        </ol>
      )}
      {mode === 'app' && anyApp && all.length > frames.length && (
        <p className="muted small">{all.length - frames.length} system frames hidden. Choose “Full” to see them.</p>
      )}
    </div>
  );
}

export function ExceptionSection({ values }: { values: ExceptionValue[] }) {
  const anyApp = values.some((v) => (v.stacktrace?.frames ?? []).some((f) => f.inApp));
  const [mode, setMode] = useState<Mode>(anyApp ? 'app' : 'full');
  const modes: [Mode, string][] = [
    ['app', 'In-app only'],
    ['full', 'Full'],
    ['raw', 'Raw'],
  ];
  return (
    <section className="card entry" aria-labelledby="exception-title">
      <div className="entry-head">
        <h2 id="exception-title">Exception</h2>
        <div className="segmented" role="group" aria-label="Stack trace view">
          {modes.map(([m, label]) => (
            <button key={m} type="button" aria-pressed={mode === m} onClick={() => setMode(m)}>
              {label}
            </button>
          ))}
        </div>
      </div>
      {mode === 'raw' ? (
        <pre className="raw-trace" tabIndex={0}>
          {rawTrace(values)}
        </pre>
      ) : (
        values
          .slice()
          .reverse()
          .map((v, i) => <Exception key={`${mode}-${i}`} value={v} mode={mode} />)
      )}
    </section>
  );
}
