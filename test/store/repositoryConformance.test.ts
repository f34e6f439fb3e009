import { expect } from 'chai';
import type { IngestTarget } from '../../src/backend/ingestTarget.js';
import type { IndexLocation } from '../../src/backend/location.js';
import { openIngestTarget } from '../../src/backend/open.js';
import type { BatchEntry, ImageRepository, NewImage } from '../../src/store/repository.js';
import { embedCoco } from '../helpers/cocoVectors.js';
import { type TestDatabase, resetDatabase, startTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/testIndex.js';

/**
 * One body of tests run against every backend's repository, opened through the backend factory as an ingest
 * opens it: SQLite in a temp folder, and PostgreSQL (npm run db, or LIPSEARCH_TEST_DATABASE_URL) wiped first.
 */
interface Backend {
  readonly name: string;
  before(): Promise<void>;
  after(): Promise<void>;
  location(): Promise<IndexLocation>;
}

let database: TestDatabase | undefined;
const backends: Backend[] = [
  { name: 'SQLite', before: async () => {}, after: async () => {}, location: async () => ({ kind: 'embedded', dir: tempDir('lipsearch-repo-') }) },
  {
    name: 'PostgreSQL',
    before: async () => void (database = await startTestDatabase()),
    after: async () => database?.stop(),
    location: async () => {
      await resetDatabase(database!.url);
      return { kind: 'postgres', url: database!.url };
    },
  },
];

for (const backend of backends) {
  describe(`ImageRepository conformance (${backend.name})`, () => {
    let vectors: Float32Array[];
    let files: string[];
    let modelVersion: string;
    let target: IngestTarget;
    let repo: ImageRepository;

    before(async () => {
      ({ files, vectors, modelVersion } = await embedCoco(5));
      await backend.before();
    });
    after(() => backend.after());
    beforeEach(async () => {
      target = await openIngestTarget(await backend.location());
      repo = target.repository;
      await repo.pinModel(() => ({ kind: 'record', meta: meta(), clear: 'none' }));
      await target.openVectorIndex(modelVersion, vectors[0].length, {});
    });
    afterEach(() => target.close());

    const meta = () => ({ modelName: 'lipsim', modelVersion, dim: vectors[0].length, space: 'cosine' as const, decoder: 'reduce-448' });
    const image = (i: number): NewImage => ({ sha256: `sha-${i}`, width: 640 + i, height: 480, bytes: 1000 + i, format: 'jpeg', mtimeMs: 1.5 + i });
    const content = (i: number, path = files[i]): BatchEntry => ({ kind: 'content', path, size: 1000 + i, mtimeMs: 1.5 + i, sha256: `sha-${i}`, image: image(i), vector: vectors[i] });
    const copy = (i: number, path: string): BatchEntry => ({ kind: 'content', path, size: 1000 + i, mtimeMs: 9, sha256: `sha-${i}` });

    it('pins the model in one transaction, and a refusal changes nothing', async () => {
      const pinned = await repo.getMeta();
      expect(pinned).to.deep.include(meta());
      expect(pinned!.schemaVersion).to.be.a('number').above(0);
      let seen: unknown;
      const refusal = await repo
        .pinModel((found, images) => {
          seen = { found: found?.modelVersion, images };
          throw new Error('another model');
        })
        .catch((err: Error) => err.message);
      expect(refusal).to.equal('another model');
      expect(seen).to.deep.equal({ found: modelVersion, images: 0 });
      expect(await repo.getMeta()).to.deep.equal(pinned);
    });

    it('commits a batch: new content, a copy under another path, a failure; records with paths first-seen first', async () => {
      const outcomes = await repo.commitBatch([
        content(0),
        content(1),
        copy(0, '/elsewhere/copy.jpg'),
        { kind: 'failed', path: '/broken.jpg', reason: 'truncated', forgetPath: false },
      ]);
      const [a, b] = [outcomes[0]!.imageId, outcomes[1]!.imageId];
      expect(outcomes).to.deep.equal([
        { imageId: a, existed: false, vectorStored: true },
        { imageId: b, existed: false, vectorStored: true },
        { imageId: a, existed: true, vectorStored: false },
        undefined,
      ]);
      expect(await repo.count()).to.equal(2);
      expect(await repo.vectorCount()).to.equal(2);
      const record = (await repo.getImage(a))!;
      expect(record).to.deep.include({ id: a, sha256: 'sha-0', width: 640, height: 480, bytes: 1000, format: 'jpeg', mtimeMs: 1.5 });
      expect(record.paths).to.deep.equal([files[0], '/elsewhere/copy.jpg']);
      expect(Date.parse(record.addedAt)).to.not.be.NaN;
      expect((await repo.getImages([b, 999_999, a])).map((r) => r.id)).to.deep.equal([b, a]);
      expect((await repo.findByPath('/elsewhere/copy.jpg'))?.id).to.equal(a);
      expect(await repo.findByPath('/nowhere.jpg')).to.equal(undefined);
      expect(await repo.shaState('sha-1')).to.deep.equal({ imageId: b, embedded: true });
      expect(await repo.shaState('sha-9')).to.equal(undefined);
      const states = await repo.pathStates([files[1], '/elsewhere/copy.jpg', '/nowhere.jpg']);
      expect([...states.entries()]).to.have.deep.members([
        [files[1], { imageId: b, size: 1001, mtimeMs: 2.5, embedded: true }],
        ['/elsewhere/copy.jpg', { imageId: a, size: 1000, mtimeMs: 9, embedded: true }],
      ]);
      expect(await repo.listErrors(10)).to.have.length(1);
      expect((await repo.listErrors(-1))[0]).to.include({ path: '/broken.jpg', reason: 'truncated' });
      expect(await repo.countErrors()).to.equal(1);
    });

    it('returns vectors bit for bit, by id, streamed and packed in one snapshot', async () => {
      const outcomes = await repo.commitBatch([0, 1, 2, 3].map((i) => content(i)));
      const ids = outcomes.map((o) => o!.imageId);
      expect(await repo.getVector(ids[2])).to.deep.equal(vectors[2]);
      const some = await repo.getVectors([ids[3], ids[0], 999_999]);
      expect([...some.keys()].sort((x, y) => x - y)).to.deep.equal([ids[0], ids[3]]);
      expect(some.get(ids[3])).to.deep.equal(vectors[3]);
      expect(await repo.vectorIds()).to.deep.equal([...ids].sort((x, y) => x - y));
      const streamed: number[] = [];
      await repo.forEachVector((id, v) => {
        streamed.push(id);
        expect(v).to.deep.equal(vectors[ids.indexOf(id)]);
      });
      expect(streamed).to.deep.equal(await repo.vectorIds());
      const snapshot = await repo.readSnapshot(10);
      expect(snapshot.vectorCount).to.equal(4);
      expect(snapshot.meta).to.deep.include(meta());
      expect(snapshot.packed!.ids).to.deep.equal(streamed);
      expect(snapshot.packed!.dim).to.equal(vectors[0].length);
      expect(snapshot.packed!.vectors.subarray(0, vectors[0].length)).to.deep.equal(vectors[ids.indexOf(streamed[0])]);
      expect((await repo.readSnapshot(3)).packed).to.equal(undefined); // above the limit: counted, not loaded
      expect((await repo.listImages(1, 2)).map((r) => r.id)).to.deep.equal(streamed.slice(1, 3));
    });

    it('rolls a failing batch back whole', async () => {
      const broken: BatchEntry = { kind: 'content', path: '/new.jpg', size: 1, mtimeMs: 1, sha256: 'sha-unseen' }; // new content, no vector
      const err = await repo.commitBatch([content(0), broken]).catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.match(/without a vector/);
      expect(await repo.count()).to.equal(0);
      expect(await repo.allPaths()).to.deep.equal([]);
    });

    it('forgets paths, deletes the orphaned images with their vectors, and never reuses an id', async () => {
      const [a, b, unreadable] = (await repo.commitBatch([content(0), content(1), content(2)])).map((o) => o!.imageId);
      // A file that became unreadable: its path goes, its error is recorded.
      expect(await repo.commitBatch([{ kind: 'failed', path: files[2], reason: 'now truncated', forgetPath: true }])).to.deep.equal([undefined]);
      expect(await repo.findByPath(files[2])).to.equal(undefined);
      expect((await repo.listErrors(5)).map((e) => e.reason)).to.deep.equal(['now truncated']);
      await repo.recordError(files[1], 'was broken once');
      await repo.forgetPaths([files[1], files[2]]);
      expect(await repo.countErrors()).to.equal(0);
      expect(await repo.allPaths()).to.deep.equal([files[0]]);
      expect((await repo.removeOrphans()).sort((x, y) => x.id - y.id)).to.deep.equal([
        { id: b, sha256: 'sha-1' },
        { id: unreadable, sha256: 'sha-2' },
      ]);
      expect(await repo.getVector(b)).to.equal(undefined);
      const [c] = (await repo.commitBatch([content(1)])).map((o) => o!.imageId);
      expect(c).to.be.above(Math.max(a, b, unreadable));
    });

    it('clears vectors when re-pinned for a new decoder or a reindex; every commit changes the signature', async () => {
      const empty = await repo.changeSignature();
      await repo.commitBatch([content(0), content(1)]);
      const committed = await repo.changeSignature();
      expect(committed).to.not.equal(empty);
      expect(await repo.changeSignature()).to.equal(committed); // nothing written since
      await repo.pinModel(() => ({ kind: 'record', meta: meta(), clear: { fromSide: 481 } }));
      expect(await repo.vectorCount()).to.equal(2); // their shorter sides are 480
      await repo.pinModel(() => ({ kind: 'record', meta: meta(), clear: { fromSide: 480 } }));
      expect(await repo.vectorCount()).to.equal(0);
      expect(await repo.shaState('sha-0')).to.deep.include({ embedded: false });
      const [again] = await repo.commitBatch([content(0)]);
      expect(again).to.deep.include({ existed: true, vectorStored: true });
      await repo.pinModel(() => ({ kind: 'record', meta: meta(), clear: 'all' }));
      expect(await repo.vectorCount()).to.equal(0);
      expect(await repo.count()).to.equal(2);
    });
  });
}
