import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { cocoTestIndex } from '../helpers/testIndex.js';

/** The attack form's note on the baseline model's copy of the collection ('' when there is none). */
async function baselineNote(server: RunningServer): Promise<string> {
  const html = await (await fetch(`${server.url}/attack`)).text();
  return /data-baseline-note>([^<]*)</.exec(html)?.[1] ?? '';
}

/** Phases of a comparison, from its server-sent events, until it ends. */
async function phases(server: RunningServer, attackId: string): Promise<string[]> {
  const text = await (await fetch(`${server.url}/api/attacks/${attackId}/events`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)).phase as string);
}

describe('the baseline model embeds a small collection in the background at server start (real server, real models)', () => {
  let server: RunningServer | undefined;
  afterEach(async () => server?.close());

  it('is ready before the first comparison, which then does not wait for it', async () => {
    const index = await cocoTestIndex();
    server = await startServer({ indexDir: index.dir, port: 0 });
    const notes = [await baselineNote(server)];
    for (let waited = 0; notes.at(-1) !== '' && waited < 120_000; waited += 200) {
      await sleep(200);
      notes.push(await baselineNote(server));
    }
    expect(notes.at(-1)).to.equal(''); // ready: no comparison was started, so the start-up did it
    for (const note of notes.slice(0, -1)) {
      expect(note).to.match(/^The baseline model is still embedding the collection in the background \(\d+ of 60 images, once per server run\)|^The first comparison also embeds/);
    }

    const started = await fetch(`${server.url}/api/attacks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: index.idOf.get(index.files[3]), epsilon: 0.5, steps: 1, k: 3 }),
    });
    expect(started.status).to.equal(202);
    const seen = await phases(server, ((await started.json()) as { id: string }).id);
    expect(seen.at(-1)).to.equal('Finished');
    expect(seen.filter((phase) => /images; once per server run/.test(phase))).to.deep.equal([]); // nothing left to embed
  });

  it('says on the attack form that the first comparison embeds the collection when it was not done at start', async () => {
    const index = await cocoTestIndex();
    server = await startServer({ indexDir: index.dir, port: 0, baselineWarmUpLimit: 0 });
    await sleep(500);
    expect(await baselineNote(server)).to.equal(
      'The first comparison also embeds the whole collection with the baseline model (once per server run), so it takes longer than the next ones.',
    );
  });
});
