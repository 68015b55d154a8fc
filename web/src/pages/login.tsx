/**
 * Login: email + password to `POST /api/0/auth/login/`, which sets the session and CSRF cookies.
 * Shows the server's reason on failure, including the wait after too many attempts (429).
 * Returns to `?next=` afterwards, but only to a path on this site (no open redirect).
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useLocation, useSearch } from 'wouter';
import { api, ApiError } from '../api';
import type { AuthInfo } from '../types';

function safeNext(raw: string | null): string {
  return raw && raw.startsWith('/') && !raw.startsWith('//') && !raw.startsWith('/\\') ? raw : '/';
}

export function LoginPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [, navigate] = useLocation();
  const next = safeNext(new URLSearchParams(useSearch()).get('next'));
  const queryClient = useQueryClient();
  const login = useMutation({
    mutationFn: () => api.post<AuthInfo>('/auth/login/', { email, password }),
    onSuccess: (info) => {
      queryClient.setQueryData(['auth'], info);
      navigate(next, { replace: true });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  const err = login.error;
  const message =
    err instanceof ApiError && err.status === 429
      ? `Too many failed attempts. Try again in ${Math.ceil((err.retryAfter ?? 60) / 60)} minute(s).`
      : err
        ? err.message
        : null;

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="brand">Faultline</span> Sign in
        </h1>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {message && (
          <p className="form-error" role="alert">
            {message}
          </p>
        )}
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          The first admin is printed by <code>faultline start</code> on its first run. Add users with <code>faultline user create</code>.
        </p>
      </form>
    </main>
  );
}
