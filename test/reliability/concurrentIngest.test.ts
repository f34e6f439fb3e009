import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestSummary } from '../../src/ingest/ingestService.js';
import { type CliExit, cliExited, spawnIngestCli, writerLockIsFree } from '../helpers/ingestCli.js';
import { copyCoco, tempDir } from '../helpers/tempFolders.js';

function runIngest(photos: string, indexDir: string): Promise<CliExit> {
  return cliExited(spawnIngestCli([photos, '--index', indexDir, '--device', 'cpu', '--json']));
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
      expect(writerLockIsFree(indexDir)).to.equal(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
