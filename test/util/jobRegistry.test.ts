import { expect } from 'chai';
import { JobRegistry } from '../../src/util/jobRegistry.js';

interface Task {
  readonly id: string;
  state: 'running' | 'done';
  step: number;
}

const registry = (keepFinished: number) =>
  new JobRegistry<Task, string>({ keepFinished, status: (t) => `${t.id}:${t.state}:${t.step}`, isFinished: (t) => t.state === 'done' });

describe('job registry', () => {
  it('streams a job to its subscribers until it ends, then drops them', () => {
    const jobs = registry(2);
    const task: Task = { id: 'a', state: 'running', step: 0 };
    jobs.add(task);
    const seen: string[] = [];
    const unsubscribeLate = jobs.subscribe('a', (s) => seen.push(`late ${s}`))!;
    jobs.subscribe('a', (s) => seen.push(s));
    unsubscribeLate();
    task.step = 1;
    jobs.notify(task);
    task.state = 'done';
    jobs.ended(task);
    jobs.notify(task); // nobody listens any more
    expect(seen).to.deep.equal(['late a:running:0', 'a:running:0', 'a:running:1', 'a:done:1']);
    const afterEnd: string[] = [];
    expect(jobs.subscribe('a', (s) => afterEnd.push(s))).to.be.a('function');
    expect(afterEnd).to.deep.equal(['a:done:1']);
  });

  it('keeps the most recently read ended jobs and forgets the rest', () => {
    const jobs = registry(2);
    for (const id of ['a', 'b', 'c']) {
      const task: Task = { id, state: 'done', step: 0 };
      jobs.add(task);
      jobs.ended(task);
      if (id === 'b') expect(jobs.get('a')).to.equal('a:done:0'); // read a: b is now the oldest
    }
    expect(jobs.get('b')).to.equal(undefined);
    expect(jobs.job('b')).to.equal(undefined);
    expect(jobs.subscribe('b', () => {})).to.equal(undefined);
    expect([...jobs.all()].map((t) => t.id).sort()).to.deep.equal(['a', 'c']);
  });

  it('never drops a running job, however many have ended', () => {
    const jobs = registry(1);
    const running: Task = { id: 'r', state: 'running', step: 0 };
    jobs.add(running);
    for (const id of ['x', 'y', 'z']) {
      const task: Task = { id, state: 'done', step: 0 };
      jobs.add(task);
      jobs.ended(task);
    }
    expect(jobs.get('r')).to.equal('r:running:0');
    expect([...jobs.all()].map((t) => t.id).sort()).to.deep.equal(['r', 'z']);
  });

  it('refuses to keep fewer than one ended job', () => {
    expect(() => registry(0)).to.throw(/keepFinished/);
    expect(() => registry(1.5)).to.throw(/keepFinished/);
  });
});
