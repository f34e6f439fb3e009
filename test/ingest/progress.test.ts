import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PlainLineCadence, createProgressReporter } from '../../src/ingest/progress.js';

/** A non-terminal output (a pipe or a log file), read back as lines. */
function pipe() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, lines: () => text.split('\n').filter(Boolean) };
}

describe('ingest progress when the output is not a terminal', () => {
  it('prints a line every few per cent of a fast run (1009 files in batches of 8: one line per 5 %)', () => {
    const { out, lines } = pipe();
    const reporter = createProgressReporter(out, { intervalMs: 60_000, percentStep: 5 });
    for (let done = 0; done < 1009; done += 8) reporter.update({ phase: 'embedding', done, total: 1009 });
    reporter.update({ phase: 'embedding', done: 1009, total: 1009 });
    reporter.finish();
    const printed = lines();
    expect(printed.length).to.be.within(20, 22); // the first, one per 5 % step, the last
    for (const line of printed) expect(line).to.match(/^embedding: \d+\/1009 \d+\.\d% [\d.]+ files\/s ETA /);
    expect(printed[0]).to.match(/^embedding: 0\/1009 0\.0%/);
    expect(printed.at(-1)).to.match(/^embedding: 1009\/1009 100\.0%/);
    const percents = printed.map((line) => Number(/ ([\d.]+)% /.exec(line)![1]));
    for (let i = 1; i < percents.length - 1; i++) expect(percents[i] - percents[i - 1]).to.be.within(5, 6);
  });

  it('prints a line every few seconds of a slow run, even between per-cent steps', async () => {
    const { out, lines } = pipe();
    const cadence: PlainLineCadence = { intervalMs: 40, percentStep: 50 };
    const reporter = createProgressReporter(out, cadence);
    for (let done = 0; done < 6; done++) {
      if (done > 0) await sleep(cadence.intervalMs + 10);
      reporter.update({ phase: 'embedding', done, total: 100 });
    }
    expect(lines()).to.have.length(6); // every update came after the interval: each one printed
    reporter.update({ phase: 'embedding', done: 7, total: 100 });
    expect(lines()).to.have.length(6); // neither the interval nor a 50 % step since the last line
  });

  it('starts each phase with a line and prints nothing for an empty phase', () => {
    const { out, lines } = pipe();
    const reporter = createProgressReporter(out);
    reporter.update({ phase: 'scanning', done: 12, total: 12 });
    reporter.update({ phase: 'embedding', done: 0, total: 0 });
    reporter.update({ phase: 'pruning', done: 1, total: 40 });
    expect(lines()).to.deep.equal(['scanning: 12 image files found', lines()[1]]);
    expect(lines()[1]).to.match(/^pruning: 1\/40 2\.5%/);
  });
});
