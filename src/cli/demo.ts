/**
 * `npm run demo -- [--index <dir>] [--port <n>] [--host <addr>] [--device cpu|cuda|auto]`: brings the index of
 * the default corpus (the COCO retrieval set) up to date, then serves the search UI and prints its URL.
 * The ingest is incremental, so a second start only checks that nothing changed.
 */
import { existsSync } from 'node:fs';
import { describeLocation, indexLocation } from '../backend/location.js';
import { defaultCorpusDir } from '../config.js';
import { ModelMismatchError, ingest } from '../ingest/ingestService.js';
import { createProgressReporter } from '../ingest/progress.js';
import { countOf } from '../util/words.js';
import { parseServeArgs, serveUntilStopped } from './serving.js';

try {
  const args = parseServeArgs(process.argv.slice(2));
  const corpus = defaultCorpusDir();
  if (!existsSync(corpus)) {
    throw new Error(`the default corpus ${corpus} is missing: set LIPSEARCH_CORPUS, or run \`npm run ingest -- --download-coco\` and then \`npm start\``);
  }
  console.log(`Indexing ${corpus} into ${describeLocation(indexLocation(args))} (only new or changed files are embedded)…`);
  const progress = createProgressReporter(process.stderr);
  const run = (reindex: boolean) =>
    ingest({ paths: [corpus], indexDir: args.indexDir, database: args.database, device: args.device, reindex, onProgress: (e) => progress.update(e) });
  const summary = await run(false).catch((err: unknown) => {
    // The demo index is derived data: after a model update it is simply re-embedded with the new model. Not a
    // database, which other ingests and servers may share.
    if (!(err instanceof ModelMismatchError) || args.database) throw err;
    console.log('The index was built with another model: re-embedding it with the installed one…');
    return run(true);
  });
  progress.finish();
  console.log(`Index ready: ${countOf(summary.images, 'image')} (${summary.added} new, ${summary.reembedded} re-embedded, ${summary.failed} could not be read).`);
  const server = await serveUntilStopped(args);
  console.log(`\nlipsearch demo is running: open ${server.url} (Ctrl-C stops it)`);
} catch (err) {
  console.error(`lipsearch demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
