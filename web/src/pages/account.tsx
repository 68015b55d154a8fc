/** Account settings: who you are, and changing the password (`PUT /api/0/users/me/password/`). */
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useSession } from '../session';

export function AccountPage() {
  const { data } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [verify, setVerify] = useState('');
  const change = useMutation({
    mutationFn: () => api.put('/users/me/password/', { password: current, passwordNew: next, passwordVerify: verify }),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setVerify('');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    change.mutate();
  };
  const mismatch = verify !== '' && verify !== next;

  return (
    <div className="page narrow">
      <h1>Account</h1>
      <section className="card">
        <dl className="kv">
          <dt>Email</dt>
          <dd>{data?.user?.email}</dd>
          <dt>Organizations</dt>
          <dd>{data?.organizations.map((o) => `${o.name} (${o.role ?? 'member'})`).join(', ') || '—'}</dd>
        </dl>
      </section>
      <section className="card">
        <h2>Change password</h2>
        <form onSubmit={submit} className="stack">
          {/* Lets password managers know whose password this is. */}
          <input type="email" autoComplete="username" value={data?.user?.email ?? ''} readOnly hidden />
          <label>
            Current password
            <input type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
          </label>
          <label>
            New password <span className="muted small">(at least 8 characters)</span>
            <input type="password" autoComplete="new-password" required minLength={8} value={next} onChange={(e) => setNext(e.target.value)} />
          </label>
          <label>
            New password again
            <input type="password" autoComplete="new-password" required value={verify} onChange={(e) => setVerify(e.target.value)} aria-invalid={mismatch} />
          </label>
          {mismatch && <p className="form-error">The new passwords do not match.</p>}
          {change.error && (
            <p className="form-error" role="alert">
              {change.error.message}
            </p>
          )}
          {change.isSuccess && (
            <p className="form-ok" role="status">
              Password changed. Your other sessions were logged out.
            </p>
          )}
          <div>
            <button type="submit" className="primary" disabled={change.isPending || mismatch}>
              Change password
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
