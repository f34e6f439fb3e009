import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { PROJECT_ROOT } from '../config.js';

export interface HttpTarget {
  readonly name: string;
  /** The request path for the n-th request (requests cycle through the corpus ids). */
  readonly path: (id: number) => string;
}

export const HTTP_TARGETS: readonly HttpTarget[] = [
  { name: 'search by id', path: (id) => `/api/images/${id}/neighbours?k=10` },
  { name: 'thumbnail', path: (id) => `/api/images/${id}/thumbnail` },
];

export interface HttpFigures {
  readonly name: string;
  readonly examplePath: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly requests: number;
  /** Mean and median over the run's one-second windows. */
  readonly requestsPerSecond: number;
  readonly requestsPerSecondMedian: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Connection errors (timeouts included) and responses outside 2xx: both must be 0. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}

/** `npm start` on a free loopback port, in its own process (so the load generator does not share its thread). */
async function startServer(indexDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'serve.ts'), '--index', indexDir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /serving on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${output}`)));
  });
  return { url, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Loads each target with autocannon for `durationSeconds`, cycling through `ids`. */
export async function measureHttp(options: { indexDir: string; ids: readonly number[]; durationSeconds: number; connections: number }): Promise<HttpFigures[]> {
  const { url, child } = await startServer(options.indexDir);
  try {
    const figures: HttpFigures[] = [];
    for (const target of HTTP_TARGETS) {
      let next = 0;
      const nextPath = () => target.path(options.ids[next++ % options.ids.length]);
      const result = await autocannon({
        url,
        connections: options.connections,
        duration: options.durationSeconds,
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: nextPath() }) }],
      });
      figures.push({
        name: target.name,
        examplePath: target.path(options.ids[0]),
        connections: options.connections,
        durationSeconds: result.duration,
        requests: result.requests.total,
        requestsPerSecond: result.requests.average,
        requestsPerSecondMedian: result.requests.p50,
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
      });
    }
    return figures;
  } finally {
    await stopServer(child);
  }
}
