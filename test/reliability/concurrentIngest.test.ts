import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import type { IngestSummary } from '../../src/ingest/ingestService.js';
import { indexLayout } from '../../src/store/indexLayout.js';
import { copyCoco, tempDir } from '../helpers/tempFolders.js';

function runIngest(photos: string, indexDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'ingest.ts'), photos, '--index', indexDir, '--device', 'cpu', '--json'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('two ingests of one index started at the same moment (issue 8)', () => {
  it('one does the work, the other refuses with a clear message and changes nothing', async () => {
    const root = tempDir('concurrent');
    try {
      const photos = join(root, 'photos');
      const indexDir = join(root, 'index');
      copyCoco(photos, 30);
      const [a, b] = await Promise.all([runIngest(photos, indexDir), runIngest(photos, indexDir)]);
      const winners = [a, b].filter((r) => r.code === 0);
      const losers = [a, b].filter((r) => r.code !== 0);
      expect(winners, `${a.stderr}\n${b.stderr}`).to.have.length(1);
      expect(losers[0].code).to.equal(1);
      expect(losers[0].stderr).to.match(/ingest: another ingest \(pid \d+\) is writing this index; wait for it to finish/);
      expect(JSON.parse(winners[0].stdout) as IngestSummary).to.include({ added: 30, images: 30, failed: 0 });
      expect(existsSync(indexLayout(indexDir).writerLock)).to.equal(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
