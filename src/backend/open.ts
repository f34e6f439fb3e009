/** The one place that maps an index location to its backend; services only see the interfaces. */
import { EmbeddedIngestTarget, EmbeddedSearchBackend } from './embedded.js';
import type { IngestTarget } from './ingestTarget.js';
import type { IndexLocation } from './location.js';
import { PostgresIngestTarget, PostgresSearchBackend } from './postgres.js';
import type { SearchBackend } from './searchBackend.js';

export async function openIngestTarget(location: IndexLocation): Promise<IngestTarget> {
  return location.kind === 'embedded' ? EmbeddedIngestTarget.open(location.dir) : PostgresIngestTarget.open(location.url);
}

/** The read side, or undefined when there is no index there yet. */
export async function openSearchBackend(location: IndexLocation): Promise<SearchBackend | undefined> {
  return location.kind === 'embedded' ? EmbeddedSearchBackend.open(location.dir) : PostgresSearchBackend.open(location.url);
}
