/** The logged-in user: `GET /api/0/auth/`, cached under ['auth']; null when logged out (401). */
import { useQuery } from '@tanstack/react-query';
import { api, ApiError } from './api';
import type { AuthInfo } from './types';

export function useSession() {
  return useQuery({
    queryKey: ['auth'],
    queryFn: async (): Promise<AuthInfo | null> => {
      try {
        return await api.get<AuthInfo>('/auth/');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 60_000,
  });
}
