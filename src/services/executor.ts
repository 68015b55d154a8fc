/**
 * What SQL-backed services write through: the shared database, or the caller's open transaction
 * (the pipeline saves a whole batch in one transaction). Backends that are not SQL ignore it.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/index.js';

export type Executor = Kysely<Database> | Transaction<Database>;
