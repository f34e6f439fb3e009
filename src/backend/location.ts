/** Where an index lives: a folder (embedded SQLite + HNSW file) or a PostgreSQL database. */
export type IndexLocation = { readonly kind: 'embedded'; readonly dir: string } | { readonly kind: 'postgres'; readonly url: string };

/** A database URL selects PostgreSQL; without one the index is the folder. */
export function indexLocation(options: { readonly indexDir: string; readonly database?: string }): IndexLocation {
  return options.database ? { kind: 'postgres', url: options.database } : { kind: 'embedded', dir: options.indexDir };
}

/** The CLIs' database: `--database <url>`, else $LIPSEARCH_DATABASE_URL, else none (the embedded index). */
export function databaseFromCli(flag: string | undefined): string | undefined {
  return flag ?? (process.env.LIPSEARCH_DATABASE_URL || undefined);
}

/** The location for messages: a folder, or the database URL without its password. */
export function describeLocation(location: IndexLocation): string {
  if (location.kind === 'embedded') return location.dir;
  try {
    const url = new URL(location.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'the database URL given';
  }
}
