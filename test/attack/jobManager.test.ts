import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AttackQueueFullError, AttackRequestError } from '../../src/attack/errors.js';
import { JobManager, type AttackJobStatus } from '../../src/attack/jobManager.js';
import type { AttackRequest } from '../../src/attack/request.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { COCO_DIR } from '../helpers/paths.js';

/** Resolves with the job's statuses once it finishes. */
function collect(manager: JobManager, id: string): Promise<AttackJobStatus[]> {
  return new Promise((resolve) => {
    const seen: AttackJobStatus[] = [];
    manager.subscribe(id, (status) => {
      seen.push(status);
      if (['done', 'failed', 'cancelled'].includes(status.state)) resolve(seen);
    });
  });
}

/** Resolves at the job's first progress report (or its end, so that a failure cannot hang the test). */
function firstProgress(manager: JobManager, id: string): Promise<AttackJobStatus> {
  return new Promise((resolve) => {
    const stop = manager.subscribe(id, (status) => {
      if (status.progress || status.state !== 'running') {
        resolve(status);
        queueMicrotask(() => stop?.());
      }
    });
  });
}

describe('attack/JobManager (worker threads)', () => {
  let manager: JobManager;
  let quick: AttackRequest;
  let long: AttackRequest;

  before(async () => {
    const file = readdirSync(COCO_DIR).sort()[0];
    const { pixels } = await loadModelInput(join(COCO_DIR, file));
    quick = { model: 'lipsim', pixels, norm: 'l2', epsilon: 0.5, steps: 3, patience: 0, goal: { kind: 'untargeted' } };
    long = { ...quick, steps: 1000 };
    manager = new JobManager({ concurrency: 1, maxQueued: 1, keepFinished: 3 });
  });
  after(() => manager.close());

  it('runs an attack in a worker, streams its progress and keeps the result', async () => {
    const id = manager.start(quick);
    const statuses = await collect(manager, id);
    const states = statuses.map((s) => s.state);
    expect(states.at(-1)).to.equal('done');
    expect(states.filter((s) => s === 'done')).to.have.length(1);
    const steps = statuses.flatMap((s) => (s.progress && s.state === 'running' ? [s.progress.step] : []));
    expect(steps).to.deep.equal([0, 1, 2, 3]);
    const { result } = manager.get(id)!;
    expect(result!.adversarial).to.be.instanceOf(Float32Array).with.length(quick.pixels.length);
    expect(result!.norms.l2).to.be.above(0).and.at.most(quick.epsilon * (1 + 1e-6));
    expect(result!.lossHistory).to.have.length(4);
  });

  it('cancels a running attack and frees its worker for the next one', async () => {
    const id = manager.start(long);
    expect((await firstProgress(manager, id)).state).to.equal('running');
    const end = collect(manager, id);
    expect(manager.cancel(id)).to.equal(true);
    expect(manager.cancel(id)).to.equal(false); // already cancelling
    const final = (await end).at(-1)!;
    expect(final).to.include({ state: 'cancelled', result: null });
    expect(final.progress!.step).to.be.below(long.steps!);
    const next = await collect(manager, manager.start(quick));
    expect(next.at(-1)!.state).to.equal('done');
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    const id = manager.start(long, { signal: controller.signal });
    const done = collect(manager, id);
    expect((await firstProgress(manager, id)).state).to.equal('running');
    controller.abort();
    expect((await done).at(-1)!.state).to.equal('cancelled');
  });

  it('queues behind a busy core and refuses beyond the queue with a typed error', async () => {
    const running = manager.start(long);
    const queued = manager.start(quick);
    expect(manager.get(running)!.state).to.equal('running');
    expect(manager.get(queued)).to.include({ state: 'queued', queuePosition: 0 });
    const err = (() => {
      try {
        manager.start(quick);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(AttackQueueFullError);
    expect((err as AttackQueueFullError).code).to.equal('ATTACK_QUEUE_FULL');
    expect((err as Error).message).to.match(/try again/);
    expect(manager.cancel(queued)).to.equal(true);
    expect(manager.get(queued)).to.include({ state: 'cancelled', startedAt: null });
    const end = collect(manager, running);
    manager.cancel(running);
    expect((await end).at(-1)!.state).to.equal('cancelled');
  });

  it('rejects malformed requests before queueing them', () => {
    const bad: unknown[] = [
      { ...quick, epsilon: 0 },
      { ...quick, pixels: new Float32Array(5) },
      { ...quick, model: 'resnet' },
      { ...quick, norm: 'l1' },
      { ...quick, steps: 2.5 },
      { ...quick, goal: { kind: 'targeted', target: new Float32Array(256) } },
    ];
    for (const request of bad) expect(() => manager.start(request as AttackRequest)).to.throw(AttackRequestError);
  });

  it('forgets the least recently used finished jobs beyond keepFinished', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) {
      ids.push(manager.start({ ...quick, steps: 1 }));
      await collect(manager, ids[n]);
      if (n === 1) manager.get(ids[0]); // touch the first: the second becomes the oldest
    }
    expect(manager.get(ids[0])?.state).to.equal('done');
    expect(manager.get(ids[1])).to.equal(undefined);
    expect(manager.get(ids[3])?.state).to.equal('done');
    expect(manager.subscribe(ids[1], () => {})).to.equal(undefined);
  });

  it('closes with an attack in flight: the job is cancelled and the workers exit cleanly', async () => {
    const other = new JobManager({ concurrency: 1 });
    const id = other.start(long);
    expect((await firstProgress(other, id)).state).to.equal('running');
    await other.close();
    expect(other.get(id)!.state).to.equal('cancelled');
    expect(() => other.start(quick)).to.throw(/closed/);
  });
});
