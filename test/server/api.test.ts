import { expect } from 'chai';
import { readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import sharp from 'sharp';
import { THUMBNAIL_SIZE } from '../../src/ingest/thumbnails.js';
import type { RunningServer } from '../../src/server/server.js';
import { thumbnailPath } from '../../src/store/indexLayout.js';
import { cocoTestIndex, startTestServer, type TestIndex } from '../helpers/testIndex.js';

/** Small upload limit of the test server: oversized uploads are cheap to make. */
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
const MAX_PIXELS = 4_000_000;

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('JSON API (real server on 127.0.0.1, real model, real index)', () => {
  let server: RunningServer;
  let index: TestIndex;
  let file: string;
  let id: number;

  const url = (path: string) => `${server.url}${path}`;
  async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Json; headers: Headers }> {
    const response = await fetch(url(path), init);
    return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
  }
  function multipart(bytes: Buffer, name = 'photo.jpg', type = 'image/jpeg', field = 'image'): FormData {
    const form = new FormData();
    form.append(field, new Blob([new Uint8Array(bytes)], { type }), name);
    return form;
  }
  /** A 4xx answer in the one error shape, with no stack trace or file-system path in it. */
  function expectCleanError(response: { status: number; body: Json }, status: number, code: string | RegExp): void {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(Object.keys(response.body)).to.deep.equal(['error']);
    if (typeof code === 'string') expect(response.body.error.code).to.equal(code);
    else expect(response.body.error.code).to.match(code);
    expect(response.body.error.message).to.be.a('string').and.not.match(/\/(work|tmp|home|usr)\/|\bat \w+ \(|\.ts:\d+/);
  }

  before(async () => {
    index = await cocoTestIndex();
    server = await startTestServer({ maxUploadBytes: MAX_UPLOAD_BYTES, maxPixels: MAX_PIXELS });
    file = index.files[7];
    id = index.idOf.get(file)!;
  });
  after(async () => server?.close());

  it('binds to the loopback interface', () => {
    expect(new URL(server.url).hostname).to.equal('127.0.0.1');
  });

  it('finds an uploaded corpus photo first at distance ≈ 0, with a certificate and the model version', async () => {
    const { status, body } = await json('/api/search?k=5&copyCheck=true', { method: 'POST', body: multipart(readFileSync(file)) });
    expect(status).to.equal(200);
    expect(body.results).to.have.length(5);
    expect(body.results[0].id).to.equal(id);
    expect(body.results[0].distance).to.be.below(1e-5);
    expect(body.results[0].paths).to.deep.equal([file]);
    expect(body.results[0].bound.lower).to.be.at.most(body.results[0].distance);
    expect(body.modelVersion).to.match(/^[0-9a-f]{64}$/);
    expect(body.certificate.scope).to.equal('exact');
    expect(body.certificate.spaces).to.deep.equal(['model-input', 'image-pixels']);
    expect(body.certificate.radii.top1 === null || body.certificate.radii.top1 >= 0).to.equal(true);
    expect(body.certificate.copyCheck.possibleCopies[0].id).to.equal(id);
    expect(body.query.kind).to.equal('upload');
    // The embedding is timed where it happens, and reported again when the upload is searched from the cache.
    const { embedMs, embeddedEarlier, searchMs, certifyMs, totalMs } = body.timings;
    expect(embeddedEarlier).to.equal(false);
    expect(embedMs).to.be.above(0);
    expect(totalMs).to.be.closeTo(embedMs + searchMs + certifyMs, 1e-9);
    const again = await json(`/api/uploads/${body.query.sha256}/neighbours?k=5`);
    expect(again.body.timings).to.include({ embedMs, embeddedEarlier: true });
    expect(again.body.certificate.radii.perValue.top1 === null || again.body.certificate.radii.perValue.top1.wholePixels >= 0).to.equal(true);
  });

  it('agrees across multipart upload, raw image body, by-id, by-upload-address and raw-vector queries', async () => {
    const bytes = readFileSync(file);
    const multi = await json('/api/search', { method: 'POST', body: multipart(bytes) });
    const raw = await json('/api/search', { method: 'POST', body: new Uint8Array(bytes), headers: { 'Content-Type': 'image/jpeg' } });
    const byId = await json(`/api/images/${id}/neighbours`);
    const again = await json(`/api/uploads/${multi.body.query.sha256}/neighbours`);
    const stored = await json(`/api/images/${id}/neighbours?k=1`);
    expect(stored.status).to.equal(200);

    const ids = (r: { body: Json }) => r.body.results.map((x: Json) => x.id);
    for (const other of [raw, byId, again]) {
      expect(other.status).to.equal(200);
      expect(ids(other)).to.deep.equal(ids(multi));
      other.body.results.forEach((x: Json, i: number) => expect(x.distance).to.be.closeTo(multi.body.results[i].distance, 1e-5));
    }
    expect(byId.body.certificate.spaces).to.deep.equal(['model-input']);
    expect(byId.body.certificate.imagePixels).to.equal(null);

    // The stored vector comes back through the vector route: recover it from the embedding of the upload.
    const vectorResult = await json('/api/search/vector', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ vector: Array.from(server.search.queryCache.get(multi.body.query.sha256)!.embedding), k: 10 }),
    });
    expect(vectorResult.status).to.equal(200);
    expect(ids(vectorResult)).to.deep.equal(ids(multi));
  });

  it('serves the uploaded query, corpus files and thumbnails by id, cacheable when content-addressed', async () => {
    const bytes = readFileSync(file);
    const { body } = await json('/api/search', { method: 'POST', body: multipart(bytes) });
    const upload = await fetch(url(body.query.urls.file));
    expect(upload.status).to.equal(200);
    expect(Buffer.from(await upload.arrayBuffer()).equals(bytes)).to.equal(true);

    const record = (await json(`/api/images/${id}`)).body;
    expect(record.paths).to.deep.equal([file]);
    const original = await fetch(url(record.urls.file));
    expect(original.status).to.equal(200);
    expect(original.headers.get('content-type')).to.equal('image/jpeg');
    expect(original.headers.get('cache-control')).to.match(/immutable/);
    expect(Buffer.from(await original.arrayBuffer()).equals(bytes)).to.equal(true);

    const thumb = await fetch(url(record.urls.thumbnail));
    expect(thumb.status).to.equal(200);
    expect(thumb.headers.get('content-type')).to.equal('image/webp');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(Math.max(meta.width!, meta.height!)).to.be.at.most(512);

    const unversioned = await fetch(url(`/api/images/${id}/thumbnail`));
    expect(unversioned.headers.get('cache-control')).to.equal('no-cache');
    // A browser revalidating (fetch() would add Cache-Control: no-cache to a conditional request).
    const status = await new Promise<number | undefined>((resolve, reject) =>
      get(url(`/api/images/${id}/thumbnail`), { headers: { 'If-None-Match': unversioned.headers.get('etag')! } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    expect(status).to.equal(304);
  });

  it('makes a thumbnail from the original when the ingest left none', async () => {
    const other = index.idOf.get(index.files[40])!;
    const record = (await json(`/api/images/${other}`)).body;
    rmSync(thumbnailPath(index.dir, record.sha256), { force: true });
    const thumb = await fetch(url(record.urls.thumbnail));
    expect(thumb.status).to.equal(200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).to.equal('webp');
    expect(Math.max(meta.width!, meta.height!)).to.equal(THUMBNAIL_SIZE);
  });

  it('lists the corpus and reports stats with the model card', async () => {
    const list = await json('/api/images?page=2&perPage=25');
    expect(list.body.total).to.equal(index.files.length);
    expect(list.body.pages).to.equal(Math.ceil(index.files.length / 25));
    expect(list.body.images).to.have.length(25);
    const stats = await json('/api/stats');
    expect(stats.body.corpus.images).to.equal(index.files.length);
    expect(stats.body.corpus.searchable).to.equal(index.files.length);
    expect(stats.body.corpus.modelMatches).to.equal(true);
    expect(stats.body.model.version).to.equal(stats.body.corpus.index.modelVersion);
    expect(stats.body.model.lipschitz.constant).to.equal(1);
  });

  it('describes every route it serves in an OpenAPI 3 document', async () => {
    const { status, body } = await json('/api/openapi.json');
    expect(status).to.equal(200);
    expect(body.openapi).to.match(/^3\./);
    expect(Object.keys(body.paths)).to.include.members([
      '/api/search',
      '/api/search/vector',
      '/api/images/{id}/neighbours',
      '/api/uploads/{sha256}/neighbours',
      '/api/uploads/{sha256}/file',
      '/api/images',
      '/api/images/{id}',
      '/api/images/{id}/file',
      '/api/images/{id}/thumbnail',
      '/api/stats',
      '/api/openapi.json',
    ]);
  });

  it('sends security headers and no framework banner', async () => {
    const response = await fetch(url('/api/stats'));
    expect(response.headers.get('x-powered-by')).to.equal(null);
    expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(response.headers.get('content-security-policy')).to.match(/default-src 'self'/).and.match(/frame-ancestors 'none'/);
    expect(response.headers.get('x-frame-options')).to.equal('DENY');
    expect(response.headers.get('referrer-policy')).to.equal('no-referrer');
  });

  describe('refuses bad requests with clear 4xx JSON errors', () => {
    it('wrong content type', async () => {
      expectCleanError(await json('/api/search', { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
      expectCleanError(await json('/api/search/vector', { method: 'POST', body: 'vector=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    });

    it('an upload that is not an image, or an empty one, or in the wrong field', async () => {
      const text = Buffer.from('this is a text file, not a photo\n'.repeat(20));
      expectCleanError(await json('/api/search', { method: 'POST', body: multipart(text, 'notes.txt', 'text/plain') }), 400, 'invalid_image');
      expectCleanError(await json('/api/search', { method: 'POST', body: new Uint8Array(text), headers: { 'Content-Type': 'image/png' } }), 400, 'invalid_image');
      // An empty file is named as such; no file at all is a missing image.
      const emptyRaw = await json('/api/search', { method: 'POST', body: new Uint8Array(0), headers: { 'Content-Type': 'image/png' } });
      expectCleanError(emptyRaw, 400, 'empty_image');
      expect(emptyRaw.body.error.message).to.match(/^the file is empty \(0 bytes\)/);
      expectCleanError(await json('/api/search', { method: 'POST', body: multipart(Buffer.alloc(0), 'empty.jpg') }), 400, 'empty_image');
      const noFile = new FormData();
      noFile.append('k', '3');
      const missing = await json('/api/search', { method: 'POST', body: noFile });
      expectCleanError(missing, 400, 'missing_image');
      expect(missing.body.error.message).to.match(/no image received/);
      expectCleanError(await json('/api/search', { method: 'POST', body: multipart(readFileSync(file), 'a.jpg', 'image/jpeg', 'photo') }), 400, 'unexpected_field');
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>');
      const refused = await json('/api/search', { method: 'POST', body: new Uint8Array(svg), headers: { 'Content-Type': 'image/svg+xml' } });
      expectCleanError(refused, 400, 'invalid_image');
      expect(refused.body.error.message).to.match(/SVG/);
      const truncated = readFileSync(file).subarray(0, 2000);
      expectCleanError(await json('/api/search', { method: 'POST', body: multipart(truncated) }), 400, 'invalid_image');
    });

    it('an upload over the byte limit or the pixel limit', async () => {
      const big = Buffer.alloc(MAX_UPLOAD_BYTES + 1024, 7);
      expectCleanError(await json('/api/search', { method: 'POST', body: multipart(big) }), 413, 'payload_too_large');
      expectCleanError(await json('/api/search', { method: 'POST', body: new Uint8Array(big), headers: { 'Content-Type': 'image/jpeg' } }), 413, 'payload_too_large');
      // Small file, many pixels: a decompression bomb in miniature.
      const wide = await sharp({ create: { width: 2500, height: 2000, channels: 3, background: '#808080' } }).png().toBuffer();
      expect(wide.length).to.be.below(MAX_UPLOAD_BYTES);
      expectCleanError(await json('/api/search', { method: 'POST', body: multipart(wide, 'wide.png', 'image/png') }), 413, 'image_too_large');
    });

    it('bad k, offset, epsilon, copyCheck and vectors', async () => {
      for (const query of ['k=0', 'k=101', 'k=abc', 'k=2.5', 'offset=-1', 'offset=x', 'epsilon=-0.1', 'epsilon=abc', 'epsilon=1e9', 'epsilon=1/0', 'copyCheck=maybe']) {
        expectCleanError(await json(`/api/images/${id}/neighbours?${query}`), 400, /^invalid_/);
      }
      const ok = await json(`/api/images/${id}/neighbours?epsilon=36/255&k=100`);
      expect(ok.status).to.equal(200);
      expect(ok.body.epsilon).to.be.closeTo(36 / 255, 1e-12);
      const post = (body: string) => json('/api/search/vector', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
      expectCleanError(await post('{"vector": [1, 2, 3]}'), 400, 'invalid_vector');
      expectCleanError(await post('{"vector": "abc"}'), 400, 'invalid_vector');
      expectCleanError(await post('{"vector": '), 400, 'invalid_json');
    });

    it('unknown ids, uploads and routes', async () => {
      expectCleanError(await json('/api/images/999999'), 404, 'not_found');
      expectCleanError(await json('/api/images/999999/neighbours'), 404, 'not_found');
      expectCleanError(await json('/api/images/abc'), 404, 'not_found');
      expectCleanError(await json('/api/images/0/file'), 404, 'not_found');
      // Never uploaded: 404 (410 is for uploads the cache has dropped: test/search/searchService.test.ts).
      const never = await json(`/api/uploads/${'a'.repeat(64)}/neighbours`);
      expectCleanError(never, 404, 'upload_not_found');
      expect(never.body.error.message).to.match(/never uploaded here, or before the server restarted/);
      expectCleanError(await json(`/api/uploads/${'a'.repeat(64)}/file`), 404, 'upload_not_found');
      expectCleanError(await json('/api/uploads/not-a-hash/file'), 404, 'not_found');
      expectCleanError(await json('/api/nothing/here'), 404, 'not_found');
    });

    it('path traversal attempts never reach a file', async () => {
      const attempts = [
        '/api/images/..%2F..%2F..%2Fetc%2Fpasswd/file',
        '/api/images/%2e%2e/file',
        `/api/images/${id}/file/..%2F..%2Fpackage.json`,
        '/api/uploads/..%2F..%2Fetc%2Fpasswd/file',
        '/static/../package.json',
        '/static/%2e%2e/package.json',
        '/static/..%2Fpackage.json',
        '/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      ];
      for (const path of attempts) {
        const response = await fetch(url(path));
        const text = await response.text();
        expect(response.status, path).to.be.oneOf([400, 404]);
        expect(text, path).to.not.match(/root:|"dependencies"|lipsearch-index/);
      }
    });
  });
});
