import { expect } from 'chai';
import { ApiError } from '../../src/server/errors.js';
import { DEFAULT_EPSILON, MAX_EPSILON, PAGE_MAX_EPSILON, parseImageId, parsePage, parseSearchParams, parseSha256 } from '../../src/server/params.js';

function refused(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a refusal');
}

describe('request parameters', () => {
  it('fill in the defaults: k 10, offset 0, ε 36/255, no copy check', () => {
    expect(parseSearchParams({})).to.deep.equal({ k: 10, offset: 0, epsilon: DEFAULT_EPSILON, copyCheck: false });
  });

  it('read ε as a decimal or a fraction, and booleans in the usual spellings', () => {
    expect(parseSearchParams({ epsilon: '36/255' }).epsilon).to.equal(36 / 255);
    expect(parseSearchParams({ epsilon: '0.5' }).epsilon).to.equal(0.5);
    expect(parseSearchParams({ epsilon: '1e-3' }).epsilon).to.equal(0.001);
    expect(parseSearchParams({ epsilon: 0 }).epsilon).to.equal(0);
    expect(parseSearchParams({ copyCheck: 'on' }).copyCheck).to.equal(true);
    expect(parseSearchParams({ copyCheck: true, k: 100, offset: '20' })).to.include({ copyCheck: true, k: 100, offset: 20 });
    expect(parseSearchParams({ k: ['5', '7'] }).k).to.equal(5);
  });

  it('refuse out-of-range or malformed values with a 400 and a named code', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ k: '0' }, 'invalid_k'],
      [{ k: '101' }, 'invalid_k'],
      [{ k: '3.5' }, 'invalid_k'],
      [{ offset: '-2' }, 'invalid_offset'],
      [{ offset: '100000' }, 'invalid_offset'],
      [{ epsilon: 'NaN' }, 'invalid_epsilon'],
      [{ epsilon: '-1' }, 'invalid_epsilon'],
      [{ epsilon: '5/0' }, 'invalid_epsilon'],
      [{ epsilon: 'Infinity' }, 'invalid_epsilon'],
      [{ copyCheck: 'perhaps' }, 'invalid_copyCheck'],
      [{ k: { nested: 1 } }, 'invalid_k'],
    ];
    for (const [input, code] of cases) {
      const err = refused(() => parseSearchParams(input));
      expect(err.status, JSON.stringify(input)).to.equal(400);
      expect(err.code).to.equal(code);
    }
    expect(refused(() => parsePage({ perPage: '500' })).code).to.equal('invalid_perPage');
  });

  it('state the one ε range whatever is wrong with ε, and take a smaller maximum for the pages', () => {
    const messages = new Set(['-1', 'abc', '101', '1/0'].map((epsilon) => refused(() => parseSearchParams({ epsilon })).message));
    expect([...messages]).to.deep.equal([`epsilon must be a number from 0 to ${MAX_EPSILON} (e.g. 0.141 or 36/255)`]);
    expect(parseSearchParams({ epsilon: '2' }, PAGE_MAX_EPSILON).epsilon).to.equal(2);
    expect(refused(() => parseSearchParams({ epsilon: '2.5' }, PAGE_MAX_EPSILON)).message).to.equal(
      `epsilon must be a number from 0 to ${PAGE_MAX_EPSILON} (e.g. 0.141 or 36/255)`,
    );
  });

  it('treat anything but a positive integer id or a sha256 as not found', () => {
    expect(parseImageId('42')).to.equal(42);
    for (const bad of ['0', '-1', '1.5', 'abc', '../etc/passwd', '1e3', '9'.repeat(20), undefined]) {
      expect(refused(() => parseImageId(bad)).status).to.equal(404);
    }
    const sha = 'ab'.repeat(32);
    expect(parseSha256(sha)).to.equal(sha);
    for (const bad of [sha.toUpperCase(), sha.slice(1), `${sha}/..`, '']) expect(refused(() => parseSha256(bad)).status).to.equal(404);
  });
});
