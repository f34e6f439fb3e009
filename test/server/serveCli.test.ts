import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { cocoTestIndex, tempDir } from '../helpers/testIndex.js';

const SERVE = join(PROJECT_ROOT, 'src', 'cli', 'serve.ts');

function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', SERVE, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('npm start (src/cli/serve.ts)', () => {
  it('exits 1 with a clear message when there is no index or an option is bad', async () => {
    const missing = await finished(startCli(['--index', join(tempDir('lipsearch-none-'), 'index')]));
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^lipsearch: no index in .*npm run ingest/).and.not.match(/\n\s+at /);
    const badPort = await finished(startCli(['--port', 'eighty']));
    expect(badPort.code).to.equal(1);
    expect(badPort.stderr).to.match(/--port must be an integer/);
  });

  it('serves the index named by LIPSEARCH_INDEX on the PORT from the environment, and stops on SIGTERM', async () => {
    const { dir } = await cocoTestIndex();
    const child = startCli([], { LIPSEARCH_INDEX: dir, PORT: '0' });
    const exit = finished(child);
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const match = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(String(chunk));
        if (match) resolve(match[1]);
      });
      child.on('exit', () => reject(new Error('the server exited before listening')));
    });
    try {
      const stats = (await (await fetch(`${url}/api/stats`)).json()) as { corpus: { images: number } };
      expect(stats.corpus.images).to.be.above(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).to.equal(0);
  });
});
