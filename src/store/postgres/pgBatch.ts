import type pg from 'pg';
import type { BatchEntry, ContentOutcome, ShaState } from '../repository.js';
import { toPgVector } from './pgVector.js';

type Content = Extract<BatchEntry, { kind: 'content' }>;
type Failed = Extract<BatchEntry, { kind: 'failed' }>;

/**
 * Records an ingest batch with a fixed number of set-based statements (each row set passed as arrays through
 * unnest), whatever its size: through a network, or PGlite's wire server, round trips dominate a batch written
 * row by row. The caller's transaction makes it atomic. Same outcomes as the SQLite repository's entry-by-entry
 * commit: the first entry of a content not stored before is `existed: false`, later ones are copies.
 */
export async function commitEntries(c: pg.ClientBase, entries: readonly BatchEntry[]): Promise<(ContentOutcome | undefined)[]> {
  const failed = entries.filter((e): e is Failed => e.kind === 'failed');
  const contents = entries.filter((e): e is Content => e.kind === 'content');
  await recordFailures(c, failed);
  if (contents.length === 0) return entries.map(() => undefined);

  const shas = [...new Set(contents.map((e) => e.sha256))];
  const before = await shaStates(c, shas);
  const firstWithImage = firstBySha(contents.filter((e) => e.image));
  // Content-addressed: an image another ingest stored since the look-up is left as it is (DO NOTHING).
  const newImages = shas.flatMap((sha) => (before.has(sha) ? [] : [firstWithImage.get(sha)?.image ?? missingVector(contents, sha)]));
  if (newImages.length > 0) {
    await c.query(
      `INSERT INTO images (sha256, width, height, bytes, format, mtime_ms, added_at)
       SELECT *, $7 FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::text[], $6::float8[])
       ON CONFLICT (sha256) DO NOTHING`,
      [
        newImages.map((i) => i.sha256),
        newImages.map((i) => i.width),
        newImages.map((i) => i.height),
        newImages.map((i) => i.bytes),
        newImages.map((i) => i.format),
        newImages.map((i) => i.mtimeMs),
        new Date().toISOString(),
      ],
    );
  }
  const now = await shaStates(c, shas);
  const firstWithVector = firstBySha(contents.filter((e) => e.vector));
  const toEmbed = shas.filter((sha) => !now.get(sha)!.embedded);
  const providers = toEmbed.map((sha) => firstWithVector.get(sha) ?? missingVector(contents, sha));
  const stored = new Set<number>();
  if (providers.length > 0) {
    const { rows } = await c.query(
      `INSERT INTO vectors (image_id, embedding)
       SELECT id, v::vector FROM unnest($1::bigint[], $2::text[]) AS t(id, v)
       ON CONFLICT (image_id) DO NOTHING RETURNING image_id`,
      [providers.map((e) => now.get(e.sha256)!.imageId), providers.map((e) => toPgVector(e.vector!))],
    );
    for (const r of rows) stored.add(Number(r.image_id));
  }

  const paths = lastByPath(contents);
  await c.query(
    `INSERT INTO paths (path, image_id, size, mtime_ms)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::float8[])
     ON CONFLICT (path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size, mtime_ms = excluded.mtime_ms`,
    [paths.map((e) => e.path), paths.map((e) => now.get(e.sha256)!.imageId), paths.map((e) => e.size), paths.map((e) => e.mtimeMs)],
  );
  await c.query('DELETE FROM ingest_errors WHERE path = ANY($1::text[])', [paths.map((e) => e.path)]);

  const seen = new Set<string>();
  const vectorProviders = new Set(providers);
  return entries.map((entry) => {
    if (entry.kind === 'failed') return undefined;
    const imageId = now.get(entry.sha256)!.imageId;
    const existed = before.has(entry.sha256) || seen.has(entry.sha256);
    seen.add(entry.sha256);
    return { imageId, existed, vectorStored: vectorProviders.has(entry) && stored.has(imageId) };
  });
}

async function recordFailures(c: pg.ClientBase, failed: readonly Failed[]): Promise<void> {
  if (failed.length === 0) return;
  // The paths no longer show the images they were indexed with.
  const forgotten = failed.filter((e) => e.forgetPath).map((e) => e.path);
  if (forgotten.length > 0) await c.query('DELETE FROM paths WHERE path = ANY($1::text[])', [forgotten]);
  const latest = [...new Map(failed.map((e) => [e.path, e.reason])).entries()];
  await c.query(
    `INSERT INTO ingest_errors (path, reason, at) SELECT *, $3 FROM unnest($1::text[], $2::text[])
     ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, at = excluded.at`,
    [latest.map(([path]) => path), latest.map(([, reason]) => reason), new Date().toISOString()],
  );
}

async function shaStates(c: pg.ClientBase, shas: readonly string[]): Promise<Map<string, ShaState>> {
  const { rows } = await c.query(
    `SELECT sha256, id, EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = images.id) AS embedded
     FROM images WHERE sha256 = ANY($1::text[])`,
    [shas],
  );
  return new Map(rows.map((r) => [r.sha256 as string, { imageId: Number(r.id), embedded: r.embedded as boolean }]));
}

function firstBySha(entries: readonly Content[]): Map<string, Content> {
  const first = new Map<string, Content>();
  for (const e of entries) if (!first.has(e.sha256)) first.set(e.sha256, e);
  return first;
}

/** One row per path (the last entry wins, as it would written one by one): an upsert cannot touch a row twice. */
function lastByPath(entries: readonly Content[]): Content[] {
  return [...new Map(entries.map((e) => [e.path, e])).values()];
}

function missingVector(contents: readonly Content[], sha: string): never {
  const path = contents.find((e) => e.sha256 === sha)!.path;
  throw new Error(`internal error: ${path} reached the store without a vector`);
}
