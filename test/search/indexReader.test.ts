import { expect } from 'chai';
import { ingest } from '../../src/ingest/ingestService.js';
import { Embedder } from '../../src/model/embedder.js';
import { IndexReader, MissingIndexError } from '../../src/search/indexReader.js';
import { SearchService } from '../../src/search/searchService.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { buildIndex, tempDir } from '../helpers/testIndex.js';

describe('IndexReader', () => {
  it('fails clearly when the directory has no index', async () => {
    const err = await IndexReader.open(tempDir('lipsearch-empty-')).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(MissingIndexError);
    expect((err as Error).message).to.match(/npm run ingest/);
  });

  it('picks up images an ingest adds while it is open, in one consistent snapshot', async () => {
    const files = cocoFiles(70).slice(60); // not the shared index's files: this test owns its index
    const index = await buildIndex(files.slice(0, 6), 'lipsearch-reload-');
    const reader = await IndexReader.open(index.dir);
    const embedder = await Embedder.open({ device: 'cpu' });
    try {
      const service = new SearchService(reader, embedder);
      const before = await reader.current();
      expect(before.vectorCount).to.equal(6);

      await ingest({ paths: files, indexDir: index.dir, device: 'cpu', decoders: 1 });
      const store = ImageStore.open(index.dir, { readonly: true });
      const added = store.findByPath(files[9])!.id;
      store.close();

      const result = await service.byId(added, { k: 3, offset: 0, epsilon: 0.1, copyCheck: false });
      expect(result.corpusSize).to.equal(10);
      expect(result.hits[0].id).to.equal(added);
      const after = await reader.current();
      expect(after.generation).to.be.above(before.generation);
      expect(after.matrix!.size).to.equal(10);
      expect(after.index!.size()).to.equal(10);
      // No change since: the same snapshot is reused.
      expect(await reader.current()).to.equal(after);
    } finally {
      await embedder.close();
      await reader.close();
    }
  });
});
