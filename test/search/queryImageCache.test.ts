import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { type CachedQuery, QueryImageCache, sha256Hex } from '../../src/search/queryImageCache.js';
import { cocoFiles } from '../helpers/cocoVectors.js';

function entry(file: string): CachedQuery {
  const bytes = readFileSync(file);
  return { sha256: sha256Hex(bytes), bytes, format: 'jpeg', width: 1, height: 1, decoded: { width: 1, height: 1 }, embedding: new Float32Array(4), resizeNorm: 1, embedMs: 20 };
}

describe('QueryImageCache', () => {
  const files = cocoFiles(6);

  it('keeps at most maxEntries uploads, dropping the least recently used', () => {
    const cache = new QueryImageCache({ maxEntries: 3, maxBytes: 1e9 });
    const [a, b, c, d] = files.map(entry);
    for (const e of [a, b, c]) cache.put(e);
    expect(cache.get(a.sha256)).to.equal(a); // a is now the most recent
    cache.put(d);
    expect(cache.get(b.sha256)).to.equal(undefined);
    for (const e of [a, c, d]) expect(cache.get(e.sha256)).to.equal(e);
  });

  it('keeps at most maxBytes, and never an upload larger than that on its own', () => {
    const entries = files.map(entry);
    const budget = entries[0].bytes.length + entries[1].bytes.length;
    const cache = new QueryImageCache({ maxEntries: 100, maxBytes: budget });
    for (const e of entries.slice(0, 3)) cache.put(e);
    expect(cache.get(entries[0].sha256)).to.equal(undefined);
    expect(cache.get(entries[2].sha256)).to.equal(entries[2]);
    const tiny = new QueryImageCache({ maxEntries: 10, maxBytes: 10 });
    tiny.put(entries[0]);
    expect(tiny.get(entries[0].sha256)).to.equal(undefined);
  });

  it('stores the same content once (content addressing)', () => {
    const cache = new QueryImageCache({ maxEntries: 2, maxBytes: 1e9 });
    const [a, b] = files.map(entry);
    cache.put(a);
    cache.put({ ...a });
    cache.put(b);
    expect(cache.get(a.sha256)).to.not.equal(undefined);
    expect(cache.get(b.sha256)).to.equal(b);
  });

  it('tells an upload it dropped from one it never had, and forgets the oldest drops first', () => {
    const cache = new QueryImageCache({ maxEntries: 1, maxBytes: 1e9, rememberDropped: 2 });
    const [a, b, c, d] = files.map(entry);
    cache.put(a);
    expect(cache.wasDropped(a.sha256)).to.equal(false);
    cache.put(b); // drops a
    expect(cache.wasDropped(a.sha256)).to.equal(true);
    expect(cache.wasDropped(c.sha256)).to.equal(false); // never uploaded
    cache.put(a); // uploaded again: kept, no longer dropped
    expect(cache.wasDropped(a.sha256)).to.equal(false);
    cache.put(c); // drops a
    cache.put(d); // drops c; remembers b, a, c: b, the oldest drop, is forgotten
    expect([b, a, c].map((e) => cache.wasDropped(e.sha256))).to.deep.equal([false, true, true]);
  });

  it('counts an upload too large to keep as dropped', () => {
    const cache = new QueryImageCache({ maxEntries: 10, maxBytes: 10 });
    const [a] = files.map(entry);
    cache.put(a);
    expect(cache.get(a.sha256)).to.equal(undefined);
    expect(cache.wasDropped(a.sha256)).to.equal(true);
  });
});
