/**
 * The server under abuse: hostile files, malformed requests, hostile ids, slow clients and a hammered attack
 * endpoint, against a real server on 127.0.0.1 with the real models and index. Every answer must be a clean
 * 4xx JSON error or a correct 200, never a 5xx or a hang, and the server must keep serving.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import sharp from 'sharp';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { hostileImages, type HostileImage } from '../helpers/hostileFiles.js';
import { cocoTestIndex, type TestIndex } from '../helpers/testIndex.js';

const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
const MAX_PIXELS = 4_000_000;
/** No single request may take longer than this: a hang fails the test instead of stalling it. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Short server timeouts, so slow clients are cut off within the test's time. */
const TIMEOUTS = { headersMs: 3_000, requestMs: 10_000, keepAliveMs: 1_000, checkIntervalMs: 250 };

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Signs of a leaked stack trace or server path. */
const LEAK = /\/work\b|\/tmp\/|\/home\/|node_modules|\n\s*at |\bat \S+ \(|\.ts:\d+|\.js:\d+/;

describe('server under abuse (real server on 127.0.0.1, real models, real index)', function () {
  this.timeout(300_000);
  let server: RunningServer;
  let index: TestIndex;
  let port: number;

  /**
   * One HTTP request with the path sent exactly as given (no URL normalisation, so `..` reaches the server),
   * the body sent in the given chunks (chunked transfer encoding unless a content-length header is given).
   */
  function send(method: string, path: string, headers: Record<string, string | number> = {}, body: Buffer | Buffer[] = []): Promise<Answer> {
    const chunks = Array.isArray(body) ? body : [body];
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      // The server may answer (413, 415) and close before the whole body is sent: the answer is what counts.
      req.on('error', (err: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(err.code ?? '') ? undefined : reject(err)));
      (async () => {
        for (const chunk of chunks) {
          if (req.destroyed) return;
          if (req.write(chunk)) continue;
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off('drain', done).off('close', done);
              resolve();
            };
            req.on('drain', done).on('close', done);
          });
        }
        req.end();
      })().catch(reject);
    });
  }

  const jsonOf = (answer: Answer): Json => JSON.parse(answer.text) as Json;

  /** Security headers and no leak on every answer, errors included. */
  function expectSafe(answer: Answer, what: string): void {
    expect(answer.headers['x-content-type-options'], what).to.equal('nosniff');
    expect(answer.headers['content-security-policy'], what).to.match(/default-src 'self'/);
    expect(answer.headers['x-frame-options'], what).to.equal('DENY');
    expect(answer.headers['x-powered-by'], what).to.equal(undefined);
    if (answer.status >= 400) expect(answer.text, what).not.to.match(LEAK);
  }

  /** A client error in the API's one shape: `{error:{code,message}}`, no stack, no path. */
  function expectApiError(answer: Answer, status: number | number[], what: string, code?: string | RegExp): Json {
    const statuses = Array.isArray(status) ? status : [status];
    expect(statuses, `${what}: ${answer.status} ${answer.text.slice(0, 300)}`).to.include(answer.status);
    expect(answer.headers['content-type'], what).to.match(/^application\/json/);
    const body = jsonOf(answer);
    expect(Object.keys(body), what).to.deep.equal(['error']);
    expect(body.error.code, what).to.be.a('string').and.match(/^[a-zA-Z_]+$/);
    expect(body.error.message, what).to.be.a('string').and.have.length.above(10);
    if (code !== undefined) expect(body.error.code, what).to.match(typeof code === 'string' ? new RegExp(`^${code}$`) : code);
    expectSafe(answer, what);
    return body;
  }

  const multipartBody = (boundary: string, parts: { name: string; fileName?: string; type?: string; data: Buffer }[], close = true) =>
    Buffer.concat([
      ...parts.flatMap((p) => [
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.fileName ? `; filename="${p.fileName}"` : ''}\r\n` +
            (p.type ? `Content-Type: ${p.type}\r\n` : '') +
            '\r\n',
        ),
        p.data,
        Buffer.from('\r\n'),
      ]),
      Buffer.from(close ? `--${boundary}--\r\n` : ''),
    ]);
  const BOUNDARY = 'x-lipsearch-test-boundary';
  const multipartHeaders = (body: Buffer, boundary = BOUNDARY) => ({ 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length });
  const uploadMultipart = (path: string, image: HostileImage) => {
    const body = multipartBody(BOUNDARY, [{ name: 'image', fileName: image.fileName, type: 'application/octet-stream', data: image.bytes }]);
    return send('POST', path, multipartHeaders(body), body);
  };
  const uploadRaw = (path: string, bytes: Buffer, type = 'image/jpeg') => send('POST', path, { 'Content-Type': type, 'Content-Length': bytes.length }, bytes);

  /** The server still answers a real search correctly: the corpus photo comes back first. */
  async function expectStillServing(): Promise<void> {
    const file = index.files[3];
    const answer = await uploadRaw('/api/search?k=3', readFileSync(file));
    expect(answer.status, answer.text.slice(0, 300)).to.equal(200);
    expect(jsonOf(answer).results[0].id).to.equal(index.idOf.get(file));
  }

  before(async () => {
    index = await cocoTestIndex();
    server = await startServer({ indexDir: index.dir, port: 0, maxUploadBytes: MAX_UPLOAD_BYTES, maxPixels: MAX_PIXELS, maxAttacks: 1, timeouts: TIMEOUTS });
    port = Number(new URL(server.url).port);
  });
  after(async () => server?.close());

  it('binds to 127.0.0.1 by default', () => {
    expect(new URL(server.url).hostname).to.equal('127.0.0.1');
  });

  it('answers every hostile file, multipart and raw, with a correct 200 or a clean 4xx, and memory stays bounded', async () => {
    const images = await hostileImages();
    expect(images.length).to.be.at.least(30);
    const rssBefore = process.memoryUsage().rss;
    for (const image of images) {
      const meta = image.bytes.length > 0 ? await sharp(image.bytes, { pages: 1, limitInputPixels: false }).metadata().catch(() => undefined) : undefined;
      const tooLarge = image.bytes.length > MAX_UPLOAD_BYTES || (meta?.width ?? 0) * (meta?.height ?? 0) > MAX_PIXELS;
      for (const [mode, answer] of [
        ['multipart', await uploadMultipart('/api/search?k=3', image)],
        ['raw', await uploadRaw('/api/search?k=3', image.bytes, 'image/png')],
      ] as const) {
        const what = `${image.name} (${image.description}) as ${mode}`;
        if (image.expect.outcome === 'ingested' && !tooLarge) {
          expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).to.equal(200);
          expectSafe(answer, what);
          const body = jsonOf(answer);
          expect(body.results, what).to.have.length(3);
          for (const r of body.results) expect(r.distance, what).to.be.within(-1e-5, 2 + 1e-5);
        } else if (tooLarge) {
          expectApiError(answer, 413, what, /^(payload_too_large|image_too_large)$/);
        } else {
          expectApiError(answer, 400, what, /^(invalid_image|empty_image|unsupported_image)$/);
        }
      }
    }
    await expectStillServing();
    // Loose: the query cache keeps some uploads; a leak of decoded 48 MP images would be gigabytes.
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    expect(grownMiB, `RSS grew by ${grownMiB.toFixed(0)} MiB`).to.be.below(1024);
  });

  it('refuses malformed multipart bodies with a clean 4xx', async () => {
    const jpeg = readFileSync(index.files[0]);
    const image = { name: 'image', fileName: 'a.jpg', type: 'image/jpeg', data: jpeg };
    const good = multipartBody(BOUNDARY, [image]);
    const cases: [string, Record<string, string | number>, Buffer, number | number[]][] = [
      ['a boundary that never appears', multipartHeaders(good, 'other-boundary'), good, 400],
      ['no boundary parameter', { 'Content-Type': 'multipart/form-data', 'Content-Length': good.length }, good, 400],
      ['an empty boundary', { 'Content-Type': 'multipart/form-data; boundary=', 'Content-Length': good.length }, good, 400],
      ['no closing boundary', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [image], false)), 400],
      ['a body cut in the middle of the file', ...((b) => [multipartHeaders(b), b] as const)(good.subarray(0, good.length >> 1)), 400],
      ['a part without headers', ...((b) => [multipartHeaders(b), b] as const)(Buffer.from(`--${BOUNDARY}\r\n\r\n\r\n--${BOUNDARY}--\r\n`)), 400],
      ['garbage instead of parts', ...((b) => [multipartHeaders(b), b] as const)(Buffer.from('this is not multipart at all')), 400],
      ['no image field, only k', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [{ name: 'k', data: Buffer.from('3') }])), 400],
      ['two files', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [image, image])), 400],
      ['the file under another field name', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [{ ...image, name: 'file' }])), 400],
      ['an empty file', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [{ ...image, data: Buffer.alloc(0) }])), 400],
      ['a 10 KB field value', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [{ name: 'k', data: Buffer.alloc(10_000, 0x31) }, image])), 400],
      ['a bad k in the form', ...((b) => [multipartHeaders(b), b] as const)(multipartBody(BOUNDARY, [{ name: 'k', data: Buffer.from('1e99') }, image])), 400],
    ];
    for (const [what, headers, body, status] of cases) {
      for (const path of ['/api/search', '/api/attacks']) expectApiError(await send('POST', path, headers, body), status, `${what} to ${path}`);
      // The search form's page route shares the upload: an HTML error page, just as clean.
      const page = await send('POST', '/search', headers, body);
      expect(page.status, `${what} to the search page`).to.equal(status);
      expect(page.headers['content-type']).to.match(/^text\/html/);
      expectSafe(page, `${what} to the search page`);
    }
    await expectStillServing();
  });

  it('refuses wrong content types, empty bodies and bodies that are not JSON', async () => {
    const jpeg = readFileSync(index.files[0]);
    const search: [string, Record<string, string | number>, Buffer, number, string][] = [
      ['text/plain', { 'Content-Type': 'text/plain' }, jpeg, 415, 'unsupported_media_type'],
      ['JSON', { 'Content-Type': 'application/json' }, Buffer.from('{"image":"x"}'), 415, 'unsupported_media_type'],
      ['a url-encoded form', { 'Content-Type': 'application/x-www-form-urlencoded' }, Buffer.from('image=x'), 415, 'unsupported_media_type'],
      ['no content type', {}, jpeg, 415, 'unsupported_media_type'],
      ['an empty image/jpeg body', { 'Content-Type': 'image/jpeg', 'Content-Length': 0 }, Buffer.alloc(0), 400, 'empty_image'],
      ['an empty multipart body', { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': 0 }, Buffer.alloc(0), 400, '.*'],
    ];
    for (const [what, headers, body, status, code] of search) expectApiError(await send('POST', '/api/search', headers, body), status, `/api/search with ${what}`, code);

    const json = { 'Content-Type': 'application/json' };
    const vector: [string, Record<string, string>, string, number, string][] = [
      ['text/plain', { 'Content-Type': 'text/plain' }, '{"vector":[1]}', 415, 'unsupported_media_type'],
      ['broken JSON', json, '{"vector": [1, 2', 400, 'invalid_json'],
      ['not JSON at all', json, 'vector=1,2,3', 400, 'invalid_json'],
      ['a bare string', json, '"hello"', 400, 'invalid_json'],
      ['null', json, 'null', 400, 'invalid_json'],
      ['an empty body', json, '', 400, '.*'],
      ['an array', json, '[1,2,3]', 400, '.*'],
      ['no vector', json, '{"k": 3}', 400, '.*'],
      ['a string vector', json, '{"vector": "1,2,3"}', 400, '.*'],
      ['a vector of the wrong length', json, '{"vector": [1, 0]}', 400, '.*'],
      ['a vector of strings', json, JSON.stringify({ vector: Array(256).fill('x') }), 400, '.*'],
      ['a vector of nulls', json, JSON.stringify({ vector: Array(256).fill(null) }), 400, '.*'],
      ['a zero vector', json, JSON.stringify({ vector: Array(256).fill(0) }), 400, '.*'],
      ['a vector with 1e999 (Infinity)', json, `{"vector": [1e999${',0'.repeat(255)}]}`, 400, '.*'],
      ['nested objects', json, `{"vector": ${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, '.*'],
      ['__proto__ pollution', json, '{"__proto__": {"k": 1e99}, "constructor": {"prototype": {"x": 1}}, "vector": [1]}', 400, '.*'],
      ['a body over the 1 MB JSON limit', json, `{"vector": [${'0.0625,'.repeat(200_000)}0]}`, 413, 'payload_too_large'],
    ];
    for (const [what, headers, body, status, code] of vector) {
      expectApiError(await send('POST', '/api/search/vector', headers, Buffer.from(body)), status, `/api/search/vector with ${what}`, code);
    }
    expect(({} as Json).k).to.equal(undefined); // nothing was polluted
    await expectStillServing();
  });

  it('answers 413 to bodies over the limit sent as streamed chunks, and to an announced oversize length', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0xab);
    const chunks = Array.from({ length: Math.ceil((MAX_UPLOAD_BYTES * 1.5) / chunk.length) }, () => chunk);
    const jpegStart = Buffer.concat([readFileSync(index.files[0]).subarray(0, 1024), chunk]);
    expectApiError(await send('POST', '/api/search', { 'Content-Type': 'image/jpeg' }, [jpegStart, ...chunks]), 413, 'streamed raw body', 'payload_too_large');
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
    const multipartHeader = { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` };
    expectApiError(await send('POST', '/api/search', multipartHeader, [head, ...chunks, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]), 413, 'streamed multipart', 'payload_too_large');
    expectApiError(await send('POST', '/api/attacks', multipartHeader, [head, ...chunks, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]), 413, 'streamed multipart attack', 'payload_too_large');
    // A declared length over the limit, then silence: refused (413) or cut off by the request timeout (408), never a hang.
    const announced = await send('POST', '/api/search', { 'Content-Type': 'image/jpeg', 'Content-Length': 50 * MAX_UPLOAD_BYTES }, chunk);
    if (announced.status === 408) expect(announced.text).to.equal('');
    else expectApiError(announced, 413, 'announced length', 'payload_too_large');
    await expectStillServing();
  });

  it('answers 400 to huge, negative, fractional and non-numeric k and epsilon', async () => {
    const id = index.idOf.get(index.files[0])!;
    const bad = [
      'k=0', 'k=-1', 'k=101', 'k=1e99', 'k=1.5', 'k=NaN', 'k=Infinity', 'k=0x10', 'k=%20', 'k=99999999999999999999999',
      'epsilon=-1', 'epsilon=NaN', 'epsilon=Infinity', 'epsilon=1e999', 'epsilon=101', 'epsilon=1%2F0', 'epsilon=0%2F0', 'epsilon=-0.1', 'epsilon=abc',
      'offset=-1', 'offset=1e9', 'copyCheck=maybe',
    ];
    const vectorOf = async () => {
      const search = await uploadRaw('/api/search?k=1', readFileSync(index.files[0]));
      return Array.from(server.search.queryCache.get(jsonOf(search).query.sha256)!.embedding);
    };
    const vector = await vectorOf();
    for (const query of bad) {
      expectApiError(await send('GET', `/api/images/${id}/neighbours?${query}`), 400, `neighbours?${query}`, /^invalid_/);
      const [name, value] = query.split('=');
      const literal = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : decodeURIComponent(value);
      const answer = await send('POST', '/api/search/vector', { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify({ vector, [name]: literal })));
      expectApiError(answer, 400, `vector body ${query}`, /^invalid_/);
    }
    // JSON numbers that are not finite only arrive as text, and are refused the same way.
    const infinite = await send('POST', '/api/search/vector', { 'Content-Type': 'application/json' }, Buffer.from(`{"vector": ${JSON.stringify(vector)}, "k": 1e999}`));
    expectApiError(infinite, 400, 'k = 1e999 as a JSON number', 'invalid_k');
  });

  it('answers 404 (or 400) to hostile ids and paths on every file-serving route, never serving a file outside the corpus', async () => {
    const ids = [
      '-1', '0', '1e99', '1.5', '0x1', '99999999999999999999', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f', '..', '%2e%2e', '%2Fetc%2Fpasswd', '%2F%2Fetc%2Fpasswd', 'C%3A%5Cwindows%5Cwin.ini', '..%5c..%5cetc%5cpasswd',
      '1%00', '1%00.jpg', '%E0%A4%A', '%', `${'9'.repeat(5000)}`, 'file%3A%2F%2F%2Fetc%2Fpasswd',
    ];
    const sha = 'a'.repeat(64);
    const uuid = '00000000-0000-0000-0000-000000000000';
    const routes = [
      (x: string) => `/api/images/${x}`,
      (x: string) => `/api/images/${x}/file`,
      (x: string) => `/api/images/${x}/thumbnail`,
      (x: string) => `/api/images/${x}/neighbours`,
      (x: string) => `/api/uploads/${x}/file`,
      (x: string) => `/api/uploads/${x}/neighbours`,
      (x: string) => `/api/attacks/${x}`,
      (x: string) => `/api/attacks/${x}/images/clean.png`,
      (x: string) => `/api/attacks/${uuid}/images/${x}`,
      (x: string) => `/api/uploads/${sha}/${x}`,
    ];
    for (const route of routes) {
      for (const id of ids) {
        const path = route(id);
        const answer = await send('GET', path);
        expectApiError(answer, [400, 404], path);
        expect(answer.text, path).not.to.match(/root:|\[fonts\]/);
      }
    }
    // Literal dot segments, unencoded: the server must not resolve them into the file system.
    for (const path of ['/api/images/../../../../etc/passwd', '/api/images/1/../../../etc/passwd', '/static/../../../../etc/passwd', '/static/..%2f..%2f..%2fpackage.json', '/static/%2e%2e/%2e%2e/package.json', '/static/%2e%2e%2f%2e%2e%2fsrc%2fconfig.ts', '//etc/passwd', '/images/..%2f..%2fetc%2fpasswd', '/images/-1', '/images/1e99']) {
      const answer = await send('GET', path);
      expect(answer.status, `${path}: ${answer.status}`).to.be.within(400, 499);
      expect(answer.text, path).not.to.match(/root:|"name": "lipsearch|sharedDataDir/);
      expectSafe(answer, path);
    }
  });

  it('cuts off clients that send headers or a body too slowly, while other clients are served', async function () {
    /** Opens a raw socket, sends `start`, then one more byte every `dripMs` until the server closes it. */
    function slowClient(start: string, drip: string, dripMs: number): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        let received = '';
        let timer: NodeJS.Timeout | undefined;
        const giveUp = setTimeout(() => {
          socket.destroy();
          reject(new Error('the server kept a slow client for 60 s'));
        }, 60_000);
        socket.on('connect', () => {
          socket.write(start);
          timer = setInterval(() => socket.writable && socket.write(drip), dripMs);
        });
        socket.on('data', (d) => (received += d.toString('latin1')));
        socket.on('error', () => undefined); // a reset is a cut-off too
        socket.on('close', () => {
          clearInterval(timer);
          clearTimeout(giveUp);
          resolve(received);
        });
      });
    }
    const headersNeverEnd = slowClient('GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X', 300);
    const headerLinesForever = slowClient('GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-a: b\r\n', 300);
    const bodyNeverEnds = slowClient(`POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n`, 'x', 300);
    const bodyStalls = slowClient(`POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n\xff\xd8`, '', 1e9);
    const idle = slowClient('', '', 1e9);
    // Meanwhile, ordinary clients are served.
    for (let i = 0; i < 3; i++) {
      const stats = await send('GET', '/api/stats');
      expect(stats.status).to.equal(200);
    }
    await expectStillServing();
    for (const [what, client] of [
      ['headers that never end', headersNeverEnd],
      ['header lines forever', headerLinesForever],
      ['a body that never ends', bodyNeverEnds],
      ['a stalled body', bodyStalls],
      ['an idle connection', idle],
    ] as const) {
      const received = await client;
      // Cut off: either a 408 (Node's answer to a request timeout) or a plain close; never a served request.
      expect(received, what).to.satisfy((r: string) => r === '' || /^HTTP\/1\.1 408/.test(r));
    }
    await expectStillServing();
  });

  it('refuses attack starts beyond the queue with 429 while searches keep being answered', async () => {
    const id = index.idOf.get(index.files[1])!;
    const start = () => send('POST', '/api/attacks', { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify({ id, epsilon: 1, steps: 2, k: 3 })));
    const answers = await Promise.all(Array.from({ length: 6 }, start));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted.length + refused.length, answers.map((a) => a.status).join()).to.equal(answers.length);
    expect(accepted.length).to.be.at.least(1);
    expect(refused.length).to.be.at.least(1);
    for (const answer of refused) {
      const body = expectApiError(answer, 429, '429', 'attack_queue_full');
      expect(body.error.message).to.match(/at most 1 at once.*try again/);
      expect(Number(answer.headers['retry-after'])).to.be.above(0);
    }
    // Searches are answered while the attack runs; then it finishes on its own.
    await expectStillServing();
    expectApiError(await start(), [429], 'start while busy', 'attack_queue_full');
    for (const answer of accepted) {
      const path = `/api/attacks/${jsonOf(answer).id}`;
      let state = '';
      for (let polls = 0; polls < 600 && !['done', 'failed', 'cancelled'].includes(state); polls++) {
        await new Promise((r) => setTimeout(r, 200));
        state = jsonOf(await send('GET', path)).state;
      }
      expect(state, path).to.equal('done');
    }
    expect((await start()).status).to.equal(202);
  });
});
