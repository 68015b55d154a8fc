/**
 * The SQL dialects Faultline runs on, and the column types that differ between them.
 * Only SQLite is wired up in this release; the types are here so migrations are written once.
 */
import type { ColumnDefinitionBuilder } from 'kysely';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export function columnTypes(dialect: Dialect) {
  return {
    idType: (dialect === 'postgres' ? 'bigserial' : 'integer') as any,
    id: (c: ColumnDefinitionBuilder) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    text: (dialect === 'mysql' ? 'longtext' : 'text') as any,
    blob: (dialect === 'postgres' ? 'bytea' : dialect === 'mysql' ? 'longblob' : 'blob') as any,
  };
}
