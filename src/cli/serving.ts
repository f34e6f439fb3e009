/** What `npm start` and `npm run demo` share: their options and a server that stops cleanly. */
import { parseArgs } from 'node:util';
import { databaseFromCli } from '../backend/location.js';
import { defaultIndexDir } from '../config.js';
import type { Device } from '../model/session.js';
import { type RunningServer, startServer } from '../server/server.js';

export const DEFAULT_PORT = 8080;

export interface ServeArgs {
  readonly indexDir: string;
  /** A PostgreSQL URL: serve the index kept there instead of indexDir. */
  readonly database?: string;
  readonly port: number;
  readonly host: string;
  readonly device: Device;
}

export function parseServeArgs(argv: string[]): ServeArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      index: { type: 'string' },
      database: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      device: { type: 'string' },
    },
    strict: true,
  });
  const portText = values.port ?? process.env.PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${portText}`);
  const device = values.device ?? 'cpu';
  if (!['cpu', 'cuda', 'auto'].includes(device)) throw new Error(`--device must be cpu, cuda or auto, got ${device}`);
  const database = databaseFromCli(values.database);
  if (database !== undefined && values.index !== undefined) throw new Error('--index and --database exclude each other: an index lives in one place');
  return { indexDir: values.index ?? defaultIndexDir(), database, port, host: values.host ?? '127.0.0.1', device: device as Device };
}

/** Starts the server and stops it cleanly on Ctrl-C / SIGTERM. */
export async function serveUntilStopped(args: ServeArgs): Promise<RunningServer> {
  const server = await startServer(args);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
