/**
 * `npm run db -- [--port <n>] [--data <dir>] [--host <addr>]`: an embedded PostgreSQL (PGlite + pgvector) for
 * `--database`, persisted in a folder. See HELP.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../config.js';
import { DEFAULT_MAX_CONNECTIONS, startEmbeddedPostgres } from '../store/postgres/embeddedServer.js';

const DEFAULT_PORT = 5433;

export const HELP = `Usage: npm run db -- [--port <n>] [--data <dir>] [--host <addr>]

Serves an embedded PostgreSQL with the pgvector extension (PGlite) over the PostgreSQL protocol, and prints
the postgres:// URL to pass to npm run ingest / npm start as --database. For development and tests: it runs
one statement at a time (up to ${DEFAULT_MAX_CONNECTIONS} clients, queued). For production, use a real PostgreSQL with pgvector.

Options:
  --port <n>     port (default ${DEFAULT_PORT}; 0 picks a free one)
  --data <dir>   database folder, created if missing (default index-data/postgres)
  --host <addr>  address to listen on (default 127.0.0.1)
  -h, --help     this text`;

interface DbArgs {
  readonly help: boolean;
  readonly port: number;
  readonly dataDir: string;
  readonly host: string;
}

function parseDbArgs(argv: string[]): DbArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      data: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const portText = values.port ?? String(DEFAULT_PORT);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${portText}`);
  return {
    help: values.help === true,
    port: Number(portText),
    dataDir: values.data ?? join(PROJECT_ROOT, 'index-data', 'postgres'),
    host: values.host ?? '127.0.0.1',
  };
}

let args: DbArgs;
try {
  args = parseDbArgs(process.argv.slice(2));
} catch (err) {
  console.error(`db: ${(err as Error).message}\nRun with --help for usage.`);
  process.exit(2);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
try {
  const server = await startEmbeddedPostgres({ dataDir: args.dataDir, port: args.port, host: args.host });
  // The URL alone on its own line, so scripts (and the tests) can read it.
  console.log(server.url);
  console.error(`embedded PostgreSQL (PGlite + pgvector) on ${server.url}, data in ${args.dataDir}; Ctrl-C stops it`);
  const stop = () => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  console.error(`db: ${code === 'EADDRINUSE' ? `port ${args.port} is in use` : (err as Error).message}`);
  process.exit(1);
}
