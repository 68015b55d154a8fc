/**
 * Single-key shortcuts for list pages (`/` search, `j`/`k` move, `x` select), ignored while the
 * user types in a field, and never with Ctrl/Alt/Meta so browser shortcuts keep working.
 */
import { useEffect } from 'react';

export function useShortcuts(handlers: Record<string, (e: KeyboardEvent) => void>) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.altKey || e.metaKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      const h = handlers[e.key];
      if (h) {
        e.preventDefault();
        h(e);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });
}
