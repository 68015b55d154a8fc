/**
 * The SQL dialects Faultline runs on, and the column types that differ between them.
 * Migrations use these so one migration file runs on all three.
 */
import { sql, type ColumnDefinitionBuilder } from 'kysely';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export function columnTypes(dialect: Dialect) {
  return {
    idType: (dialect === 'postgres' ? 'bigserial' : 'integer') as any,
    id: (c: ColumnDefinitionBuilder) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    text: (dialect === 'mysql' ? sql`longtext` : 'text') as any,
    blob: (dialect === 'postgres' ? 'bytea' : dialect === 'mysql' ? sql`longblob` : 'blob') as any,
  };
}
