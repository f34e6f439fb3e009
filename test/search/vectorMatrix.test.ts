import { expect } from 'chai';
import { cosineDistance } from '../../src/certify/index.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { VectorMatrix, countWithin, nearestRows } from '../../src/search/vectorMatrix.js';
import { cocoTestIndex } from '../helpers/testIndex.js';

describe('VectorMatrix exact scan (real stored vectors)', () => {
  let matrix: VectorMatrix;
  let store: ImageStore;

  before(async () => {
    store = ImageStore.open((await cocoTestIndex()).dir, { readonly: true });
    matrix = VectorMatrix.fromPacked(store.allVectors());
  });
  after(() => store.close());

  it('gives every row its exact distance, and the true nearest rows with the minimum of the rest', () => {
    const ids = Array.from(matrix.ids);
    for (const queryId of ids.slice(0, 5)) {
      const query = matrix.vector(queryId)!;
      const distances = matrix.distancesTo(query);
      ids.forEach((id, row) => expect(distances[row]).to.equal(cosineDistance(query, matrix.vector(id)!)));
      const sorted = ids.map((id, row) => ({ id, distance: distances[row] })).sort((a, b) => a.distance - b.distance || a.id - b.id);
      const scan = nearestRows(matrix, distances, 7);
      expect(scan.nearest).to.deep.equal(sorted.slice(0, 7));
      expect(scan.restLowerBound).to.equal(sorted[7].distance);
      expect(nearestRows(matrix, distances, ids.length).restLowerBound).to.equal(Infinity);
      expect(nearestRows(matrix, distances, 0).nearest).to.deep.equal([]);
      expect(countWithin(distances, sorted[3].distance)).to.be.at.least(4);
    }
  });

  it('holds the store vectors row for row', () => {
    const stored = store.getVectors(Array.from(matrix.ids).slice(0, 10));
    for (const [id, vector] of stored) expect(Array.from(matrix.vector(id)!)).to.deep.equal(Array.from(vector));
    expect(matrix.vector(987654)).to.equal(undefined);
  });
});
