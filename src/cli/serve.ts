/**
 * `npm start -- [--index <dir> | --database <postgres url>] [--port <n>] [--host <addr>] [--device cpu|cuda|auto]`:
 * serves the search UI and JSON API for one index. Environment: LIPSEARCH_INDEX (index dir),
 * LIPSEARCH_DATABASE_URL (PostgreSQL), PORT.
 */
import { parseServeArgs, serveUntilStopped } from './serving.js';

try {
  const server = await serveUntilStopped(parseServeArgs(process.argv.slice(2)));
  console.log(`lipsearch is serving on ${server.url}`);
} catch (err) {
  console.error(`lipsearch: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
