import { readFile } from 'node:fs/promises';
import type { IndexLocation } from '../backend/location.js';
import { Embedder } from '../model/embedder.js';
import { IndexReader } from '../search/indexReader.js';
import { SearchService } from '../search/searchService.js';
import type { SearchOptions, SearchResult } from '../search/types.js';
import { type LatencySummary, latencySummary, median, msSince } from './stats.js';

export interface QueryLatencyOptions {
  /** The index searched: a folder, or any location (a PostgreSQL database). */
  readonly index: string | IndexLocation;
  /** Files sent as uploads (each embedded once per pass: every pass starts with an empty query cache). */
  readonly uploads: readonly string[];
  readonly repeats: number;
  readonly modelsDir?: string;
}

export interface QueryKindLatency {
  readonly queries: number;
  /** The whole SearchService call. */
  readonly total: LatencySummary;
  /** The certificate step alone, as the service times it (timings.certifyMs): certifyAnswer and its radii. */
  readonly certificate: LatencySummary;
  /** Each query's total minus its certificate step: the answer without certificates. */
  readonly withoutCertificate: LatencySummary;
  /** Median certificate step / median answer without it, in percent. */
  readonly certificateOverheadPct: number;
}

export interface QueryLatency {
  readonly corpus: number;
  /** Scope of the answers (exact: the whole corpus scanned, which proves the list and bounds the rest). */
  readonly scope: string;
  readonly options: SearchOptions;
  readonly byId: QueryKindLatency;
  readonly byUpload: QueryKindLatency;
  readonly overheadTargetPct: number;
}

export const CERTIFICATE_OVERHEAD_TARGET_PCT = 5;
const OPTIONS: SearchOptions = { k: 10, offset: 0, epsilon: 36 / 255, copyCheck: false };

interface Sample {
  readonly totalMs: number;
  readonly certifyMs: number;
}

function summarise(samples: readonly Sample[]): QueryKindLatency {
  const without = samples.map((s) => s.totalMs - s.certifyMs);
  const certify = samples.map((s) => s.certifyMs);
  return {
    queries: samples.length,
    total: latencySummary(samples.map((s) => s.totalMs)),
    certificate: latencySummary(certify),
    withoutCertificate: latencySummary(without),
    certificateOverheadPct: (100 * median(certify)) / median(without),
  };
}

async function timed(query: () => Promise<SearchResult>): Promise<Sample & { scope: string }> {
  const started = performance.now();
  const result = await query();
  return { totalMs: msSince(started), certifyMs: result.timings.certifyMs, scope: result.certificate?.scope ?? 'none' };
}

/**
 * Latency of the query engine in this process (no HTTP): by corpus id and by upload (decode + embed + search),
 * each split into the certificate step and the rest. The search service has no switch to skip certificates, so
 * "without" is the total minus the step it times itself.
 */
export async function measureQueryLatency(options: QueryLatencyOptions): Promise<QueryLatency> {
  const reader = await IndexReader.open(options.index);
  const embedder = await Embedder.open({ device: 'cpu', modelsDir: options.modelsDir });
  try {
    const ids = await reader.store.vectorIds();
    const uploads = await Promise.all(options.uploads.map((f) => readFile(f)));
    const warm = new SearchService(reader, embedder);
    for (const id of ids.slice(0, 10)) await warm.byId(id, OPTIONS);
    await warm.byUpload(uploads[0], OPTIONS);

    const byId: Sample[] = [];
    const byUpload: Sample[] = [];
    let scope = 'none';
    for (let pass = 0; pass < options.repeats; pass++) {
      const search = new SearchService(reader, embedder); // an empty upload cache: every upload is embedded
      for (const id of ids) byId.push(await timed(() => search.byId(id, OPTIONS)));
      for (const bytes of uploads) {
        const sample = await timed(() => search.byUpload(bytes, OPTIONS));
        scope = sample.scope;
        byUpload.push(sample);
      }
    }
    return {
      corpus: ids.length,
      scope,
      options: OPTIONS,
      byId: summarise(byId),
      byUpload: summarise(byUpload),
      overheadTargetPct: CERTIFICATE_OVERHEAD_TARGET_PCT,
    };
  } finally {
    await embedder.close();
    await reader.close();
  }
}
