/**
 * `npm run ingest -- <path...> [options]`: builds or updates an index from photo folders. See HELP.
 */
import { parseArgs } from 'node:util';
import { databaseFromCli, indexLocation } from '../backend/location.js';
import { DatabaseError } from '../backend/databaseError.js';
import { defaultCorpusDir, defaultIndexDir } from '../config.js';
import { DEFAULT_HNSW_OPTIONS } from '../index/hnswIndex.js';
import { COCO_RETRIEVAL_URL, DownloadError, defaultCocoDownloadDir, downloadCoco } from '../ingest/cocoDownload.js';
import { type IngestOptions, type IngestSummary, ModelMismatchError, defaultDecoders, ingest } from '../ingest/ingestService.js';
import { CopyError, type CopySummary, copyIndex } from '../ingest/copyIndex.js';
import { IndexLockedError } from '../ingest/lock.js';
import { createProgressReporter } from '../ingest/progress.js';
import { type Device, DeviceUnavailableError } from '../model/session.js';
import { SchemaVersionError } from '../store/postgres/pgSchema.js';
import { countOf } from '../util/words.js';

export const EXIT = { ok: 0, fatal: 1, usage: 2, filesFailed: 3, interrupted: 130 } as const;

export const HELP = `Usage: npm run ingest -- [<path>...] [options]

Adds the photos in the given folders (searched recursively) or files to a search index, or brings an
existing index up to date. Without a path it ingests the default corpus: $LIPSEARCH_CORPUS, else
../shared/data/coco/images (${defaultCorpusDir()}).

Takes JPEG, PNG, WebP, GIF (first frame), TIFF and AVIF; other files are skipped and counted. The same
picture under several names is embedded once and every name is kept.

Running it again is cheap: files whose path, size and modification time are unchanged are not even read.
Changed files are re-embedded. A run that is killed (Ctrl-C, kill -9, power cut) loses nothing: run it
again and it finishes the job (the index is checked and repaired on open).

Options:
  --index <dir>          index folder (default: $LIPSEARCH_INDEX, else ${defaultIndexDir()})
  --database <url>       keep the index in PostgreSQL with pgvector instead (default: $LIPSEARCH_DATABASE_URL;
                         \`npm run db\` serves an embedded one); several ingests may then run at once
  --batch <n>            images per model run (default 32)
  --device cpu|cuda|auto where the model runs (default auto: CUDA if available, else CPU)
  --decoders <n>         image decode workers running beside the model (default ${defaultDecoders()} here)
  --threads <n>          CPU threads for the model (default: all cores)
  --prune                remove index entries whose files are gone
  --reindex              re-embed every image (needed after the model changed; the index is pinned to the
                         model that built it and refuses another one without this flag)
  --strict               exit with status 3 if any file could not be ingested
  --m <n>                HNSW graph degree for a new graph (default ${DEFAULT_HNSW_OPTIONS.m})
  --ef-construction <n>  HNSW build breadth for a new graph (default ${DEFAULT_HNSW_OPTIONS.efConstruction})
  --json                 print the summary as JSON instead of text
  --download-coco        download the 500-image COCO retrieval set, unzip it, then ingest it
                         (from $LIPSEARCH_COCO_URL, default ${COCO_RETRIEVAL_URL})
  --to <dir>             where --download-coco puts the images (default ${defaultCocoDownloadDir()})
  --from-index <dir>     copy the index in <dir> (images, paths, vectors, thumbnails, errors) into --database
                         (or --index) as it is: nothing is decoded or embedded again
  -h, --help             this text

Files that cannot be ingested (empty, truncated, not an image, too many pixels, unreadable) are reported
with the reason and never stop the run. Only one ingest may write an index folder at a time (a PostgreSQL
index takes several); the search server can keep serving it meanwhile.

Exit status: 0 done (even if some files failed, unless --strict); 1 fatal problem (index locked by another
ingest, model mismatch, download failed, unusable index folder or database); 2 bad command line; 3 --strict and some
files failed; 130 interrupted by Ctrl-C (what was done is kept; run again to finish).

Examples:
  npm run ingest -- ~/Pictures
  npm run ingest -- ~/Pictures /media/usb/photos --index ~/photo-index --prune
  npm run ingest -- --download-coco`;

export interface IngestArgs {
  readonly help: boolean;
  readonly paths: string[];
  readonly indexDir: string;
  /** PostgreSQL URL (--database or $LIPSEARCH_DATABASE_URL); undefined: the index folder. */
  readonly database?: string;
  readonly batchSize: number;
  readonly device: Device;
  readonly decoders?: number;
  readonly threads?: number;
  readonly prune: boolean;
  readonly reindex: boolean;
  readonly strict: boolean;
  readonly json: boolean;
  readonly m?: number;
  readonly efConstruction?: number;
  /** Set with --download-coco: the folder to download into (and then ingest). */
  readonly downloadTo?: string;
  /** Set with --from-index: the index folder to copy. */
  readonly fromIndex?: string;
}

export class UsageError extends Error {}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
  return Number(text);
}

export function parseIngestArgs(argv: string[]): IngestArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        index: { type: 'string' },
        database: { type: 'string' },
        batch: { type: 'string' },
        device: { type: 'string' },
        decoders: { type: 'string' },
        threads: { type: 'string' },
        prune: { type: 'boolean' },
        reindex: { type: 'boolean' },
        strict: { type: 'boolean' },
        json: { type: 'boolean' },
        m: { type: 'string' },
        'ef-construction': { type: 'string' },
        'download-coco': { type: 'boolean' },
        to: { type: 'string' },
        'from-index': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const device = values.device ?? 'auto';
  if (!['cpu', 'cuda', 'auto'].includes(device)) throw new UsageError(`--device must be cpu, cuda or auto, got "${device}"`);
  if (values.to !== undefined && !values['download-coco']) throw new UsageError('--to only goes with --download-coco');
  const download = values['download-coco'] === true;
  if (download && positionals.length > 0) throw new UsageError('--download-coco takes no paths (use --to <dir>)');
  const fromIndex = values['from-index'];
  if (fromIndex !== undefined && (positionals.length > 0 || download)) throw new UsageError('--from-index takes no paths and no --download-coco');
  const database = databaseFromCli(values.database);
  if (database !== undefined && values.index !== undefined) throw new UsageError('--index and --database exclude each other: an index lives in one place');
  return {
    help: values.help === true,
    paths: download ? [] : positionals.length > 0 ? positionals : [defaultCorpusDir()],
    indexDir: values.index ?? defaultIndexDir(),
    database,
    batchSize: positiveInt('batch', values.batch) ?? 32,
    device: device as Device,
    decoders: positiveInt('decoders', values.decoders),
    threads: positiveInt('threads', values.threads),
    prune: values.prune === true,
    reindex: values.reindex === true,
    strict: values.strict === true,
    json: values.json === true,
    m: positiveInt('m', values.m),
    efConstruction: positiveInt('ef-construction', values['ef-construction']),
    downloadTo: download ? (values.to ?? defaultCocoDownloadDir()) : undefined,
    fromIndex,
  };
}

export function formatSummary(s: IngestSummary): string {
  const row = (label: string, n: number, note = '') => `  ${label.padEnd(12)} ${String(n).padStart(7)}${note}`;
  const lines = [
    `${s.interrupted ? 'Interrupted; kept what was done in' : 'Index'} ${s.indexDir} ` +
      `(model ${s.modelVersion.slice(0, 12)}${s.device ? `, ${s.device}` : ''})`,
    row('found', s.found, ` image file${s.found === 1 ? '' : 's'}${s.skipped ? ` (${countOf(s.skipped, 'other file')} skipped)` : ''}`),
    row('added', s.added),
    row('updated', s.updated),
    row('unchanged', s.unchanged),
    row('duplicates', s.duplicates, s.duplicates ? ' (same content under another name: stored once)' : ''),
  ];
  if (s.reembedded) lines.push(row('re-embedded', s.reembedded));
  lines.push(row('failed', s.failed));
  if (s.pruned) lines.push(row('pruned', s.pruned));
  if (s.missing) lines.push(row('missing', s.missing, ' (files gone; run with --prune to remove them)'));
  if (s.repaired.added || s.repaired.removed) {
    lines.push(`  repaired the vector index after an interruption (+${s.repaired.added} / -${s.repaired.removed})`);
  }
  lines.push(
    `  ${countOf(s.images, 'image')} in the index; embedded ${s.embedded} in ${countOf(s.embedBatches, 'model run')}; ` +
      `${s.imagesPerSecond.toFixed(1)} images/s; ${s.seconds.toFixed(1)} s`,
  );
  if (s.awaitingEmbedding) {
    lines.push(`  ${countOf(s.awaitingEmbedding, 'image awaits', 'images await')} embedding (their files were not under the given paths)`);
  }
  if (s.errors.length) {
    const shown = 20;
    lines.push('Failed files:');
    for (const e of s.errors.slice(0, shown)) lines.push(`  ${e.path}: ${e.reason}`);
    if (s.errors.length > shown) lines.push(`  … and ${s.errors.length - shown} more (all are kept in the index's ingest_errors table)`);
  }
  if (s.interrupted) lines.push('Run the same command again to finish.');
  return lines.join('\n');
}

function formatCopy(s: CopySummary): string {
  return (
    `Copied ${s.from} into ${s.to} (model ${s.modelVersion.slice(0, 12)}): ${countOf(s.images, 'image')} under ` +
    `${countOf(s.paths, 'path')}, ${countOf(s.errors, 'ingest error')}; ${s.seconds.toFixed(1)} s` +
    (s.notEmbedded ? `\n  ${countOf(s.notEmbedded, 'image')} awaiting embedding in the source not copied (ingest their folders)` : '')
  );
}

export async function runIngestCli(args: IngestArgs): Promise<number> {
  if (args.fromIndex) {
    const summary = await copyIndex(args.fromIndex, indexLocation(args), { m: args.m, efConstruction: args.efConstruction });
    console.log(args.json ? JSON.stringify(summary, null, 2) : formatCopy(summary));
    return EXIT.ok;
  }
  let paths = args.paths;
  if (args.downloadTo) {
    console.error(`Downloading the COCO retrieval set into ${args.downloadTo} …`);
    const download = await downloadCoco(args.downloadTo);
    console.error(`${download.reused ? 'Already downloaded' : 'Downloaded'}: ${download.images} images.`);
    paths = [download.dir];
  }
  const reporter = createProgressReporter(process.stderr);
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted); // second Ctrl-C: stop now (still safe)
    console.error('\nFinishing the files in flight and saving (Ctrl-C again to stop at once) …');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const options: IngestOptions = {
    paths,
    indexDir: args.indexDir,
    database: args.database,
    batchSize: args.batchSize,
    device: args.device,
    decoders: args.decoders,
    threads: args.threads,
    prune: args.prune,
    reindex: args.reindex,
    hnsw: { m: args.m, efConstruction: args.efConstruction },
    onProgress: (e) => reporter.update(e),
    signal: interrupt.signal,
  };
  try {
    const summary = await ingest(options);
    reporter.finish();
    console.log(args.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    if (summary.interrupted) return EXIT.interrupted;
    return args.strict && summary.failed > 0 ? EXIT.filesFailed : EXIT.ok;
  } finally {
    reporter.finish();
    process.off('SIGINT', onSigint);
  }
}

async function main(): Promise<void> {
  let args: IngestArgs;
  try {
    args = parseIngestArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`ingest: ${(err as Error).message}\nRun with --help for usage.`);
    process.exit(EXIT.usage);
  }
  if (args.help) {
    console.log(HELP);
    return;
  }
  // sharp decodes on libuv's thread pool (shared by all decode workers): give each worker a thread.
  process.env.UV_THREADPOOL_SIZE ??= String((args.decoders ?? defaultDecoders()) + 4);
  try {
    process.exitCode = await runIngestCli(args);
  } catch (err) {
    // Expected problems (and system errors such as an unwritable index folder) get their message only.
    const expected =
      err instanceof ModelMismatchError || err instanceof IndexLockedError || err instanceof DownloadError ||
      err instanceof DeviceUnavailableError || err instanceof DatabaseError || err instanceof SchemaVersionError || err instanceof CopyError ||
      (err as NodeJS.ErrnoException).code !== undefined;
    console.error(`ingest: ${expected ? (err as Error).message : (err as Error).stack ?? String(err)}`);
    process.exitCode = EXIT.fatal;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
