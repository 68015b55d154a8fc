/**
 * Entry point: one QueryClient (cache, retries, refetch on focus) and the router. A 401 from any
 * query invalidates the session so the guard in app.tsx sends the user to the login page.
 */
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError } from './api';
import { App } from './app';
import './theme.css';

const onError = (err: unknown) => {
  if (err instanceof ApiError && err.status === 401) void client.invalidateQueries({ queryKey: ['auth'] });
};

const client: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // 4xx answers are final (bad query, gone, forbidden); retry only server and network errors.
      retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status < 500),
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
