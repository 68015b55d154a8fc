/** A client key (DSN) in Sentry's ProjectKey shape: `id` is the public key, as Sentry uses it. */
import type { ProjectKey } from '../../db/index.js';
import { keyDsn } from '../../db/models/index.js';
import { iso } from './issue.js';

export function serializeProjectKey(k: ProjectKey, baseUrl: string) {
  const dsn = keyDsn(baseUrl, k);
  return {
    id: k.public_key,
    name: k.label,
    label: k.label,
    public: k.public_key,
    isActive: k.is_active === 1,
    projectId: k.project_id,
    dateCreated: iso(k.date_created),
    rateLimit: k.rate_limit_count !== null && k.rate_limit_window ? { window: k.rate_limit_window, count: k.rate_limit_count } : null,
    // Faultline does not check the secret part; the public DSN is what every SDK needs.
    dsn: { public: dsn, secret: dsn },
  };
}
