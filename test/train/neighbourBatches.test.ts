import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/config.js';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

// 400 photos in 100 tight clusters of 4 on the unit sphere; clusters 50-99 play the held-out photos. Batches of 16
// in groups of 4 should be whole clusters of training photos; random batches almost never hold one.
const SCRIPT = `
import json, sys
import numpy as np
sys.path.insert(0, 'scripts/train')
from train import neighbour_batch, teacher_neighbours
rng = np.random.default_rng(0)
centres = rng.normal(size=(100, 32))
targets = np.repeat(centres, 4, axis=0) + 0.01 * rng.normal(size=(400, 32))
targets = (targets / np.linalg.norm(targets, axis=1, keepdims=True)).astype(np.float32)
cluster = np.arange(400) // 4
train_idx = np.arange(200)  # clusters 0-49; the others play the held-out photos
neighbours = teacher_neighbours(targets, train_idx, k=3)
def whole_clusters(batch):
    return float(np.mean([np.isin(np.where(cluster == cluster[p])[0], batch).all() for p in batch]))
grouped = [neighbour_batch(rng, train_idx, neighbours, 16, 4) for _ in range(50)]
uniform = [rng.choice(train_idx, size=16, replace=False) for _ in range(50)]
print(json.dumps({
    'neighbours_in_cluster': float(np.mean(cluster[neighbours[train_idx]] == cluster[train_idx, None])),
    'neighbours_in_training_split': bool(np.isin(neighbours[train_idx], train_idx).all()),
    'unique': all(len(set(b.tolist())) == 16 for b in grouped),
    'grouped_whole_clusters': float(np.mean([whole_clusters(b) for b in grouped])),
    'uniform_whole_clusters': float(np.mean([whole_clusters(b) for b in uniform])),
    'k_on_five_photos': int(teacher_neighbours(targets, np.arange(5)).shape[1]),
}))
`;

describe('teacher-neighbour batches (train.py --neighbour-group)', () => {
  it('draws unique photos in groups the teacher finds alike, which random batches are not', () => {
    const out = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
      encoding: 'utf8',
    }));
    expect(out.neighbours_in_cluster).to.equal(1);
    expect(out.neighbours_in_training_split).to.equal(true);
    expect(out.unique).to.equal(true);
    expect(out.grouped_whole_clusters).to.be.above(0.9);
    expect(out.uniform_whole_clusters).to.be.below(0.05);
    expect(out.k_on_five_photos).to.equal(4);
  });
});
