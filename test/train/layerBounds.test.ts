import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/config.js';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

interface BoundCheck {
  readonly min_relative_eigenvalue: number;
  readonly max_jacobian_norm: number;
}

describe('SLL layer bounds on explicit operators (Python, float64)', () => {
  it('T dominates W^T W (zero-padded conv and dense) and each layer is 1-Lipschitz; halving T breaks both', () => {
    const output = execFileSync(PYTHON, ['scripts/train/check_bounds.py'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
      encoding: 'utf8',
    });
    const { exact, halved } = JSON.parse(output) as { exact: BoundCheck; halved: BoundCheck };
    expect(exact.min_relative_eigenvalue).to.be.at.least(-1e-12);
    expect(exact.max_jacobian_norm).to.be.at.most(1 + 1e-9);
    expect(halved.min_relative_eigenvalue).to.be.below(0);
    expect(halved.max_jacobian_norm).to.be.above(1.01);
  });
});
