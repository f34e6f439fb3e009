/**
 * The one place that maps an index location to its backend; services only see the interfaces. The PostgreSQL
 * backend is loaded on demand: a folder index never loads the database client (the CLIs start faster).
 */
import { EmbeddedIngestTarget, EmbeddedSearchBackend } from './embedded.js';
import type { IngestTarget } from './ingestTarget.js';
import type { IndexLocation } from './location.js';
import type { SearchBackend } from './searchBackend.js';

export async function openIngestTarget(location: IndexLocation): Promise<IngestTarget> {
  if (location.kind === 'embedded') return EmbeddedIngestTarget.open(location.dir);
  return (await import('./postgres.js')).PostgresIngestTarget.open(location.url);
}

/** The read side, or undefined when there is no index there yet. */
export async function openSearchBackend(location: IndexLocation): Promise<SearchBackend | undefined> {
  if (location.kind === 'embedded') return EmbeddedSearchBackend.open(location.dir);
  return (await import('./postgres.js')).PostgresSearchBackend.open(location.url);
}
