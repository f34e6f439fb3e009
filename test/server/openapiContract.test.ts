import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RunningServer } from '../../src/server/server.js';
import { cocoTestIndex, startTestServer, type TestIndex } from '../helpers/testIndex.js';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A request to make against the running server; `path` has its placeholders filled in. */
interface Call {
  readonly path: string;
  readonly init?: RequestInit;
}

/**
 * Every operation of the served OpenAPI document is called on a real server, once as a client that follows the
 * document (every documented query parameter sent at its documented default) and once with a mistake; each
 * answer must have a documented status and media type, and every JSON body must validate against the schema
 * the document gives for it (read back from the served JSON with zod's JSON Schema reader; objects are closed,
 * so an undocumented field fails too).
 */
describe('OpenAPI contract: every documented route answers as documented (real server, real models)', () => {
  let server: RunningServer;
  let index: TestIndex;
  let document: Json;
  let imageId: number;
  let sha256: string;
  let attackId: string;
  let dim: number;

  const url = (path: string) => `${server.url}${path}`;
  const jsonPost = (body: object): RequestInit => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  function photoForm(extra: Record<string, string> = {}): FormData {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFileSync(index.files[3]!))], { type: 'image/jpeg' }), 'photo.jpg');
    for (const [name, value] of Object.entries(extra)) form.append(name, value);
    return form;
  }

  /** The schema the document gives, read back into a validator ($refs resolved among its components). */
  function validatorOf(schema: Json): z.ZodType {
    const defs = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'));
    const root = JSON.parse(JSON.stringify(schema).replaceAll('#/components/schemas/', '#/$defs/'));
    return z.fromJSONSchema({ ...root, $defs: defs });
  }

  /** The documented response of `status`, with $refs to shared responses followed. */
  function documentedResponse(operation: Json, status: number): Json | undefined {
    const response = operation.responses[String(status)];
    if (!response?.$ref) return response;
    return document.components.responses[String(response.$ref).split('/').at(-1)!];
  }

  /** `template` (e.g. /api/images/{id}) with the documented defaults of its query parameters. */
  function withDocumentedDefaults(path: string, operation: Json): string {
    const query = new URLSearchParams(new URL(path, 'http://x').search);
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in === 'query' && parameter.schema?.default !== undefined && !query.has(parameter.name)) query.set(parameter.name, String(parameter.schema.default));
    }
    const text = query.toString();
    return `${path.split('?')[0]}${text ? `?${text}` : ''}`;
  }

  async function expectDocumented(method: string, template: string, call: Call, expected: 'success' | 'error'): Promise<{ status: number; body?: Json }> {
    const operation = document.paths[template][method];
    const response = await fetch(url(call.path), { method: method.toUpperCase(), ...call.init });
    const label = `${method.toUpperCase()} ${call.path} → ${response.status}`;
    const documented = documentedResponse(operation, response.status);
    expect(documented, `${label} is not a documented status`).to.not.equal(undefined);
    expect(response.status < 400, label).to.equal(expected === 'success');
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const mediaTypes = Object.keys(documented!.content ?? {});
    const media = mediaTypes.find((m) => m === type || (m.endsWith('/*') && type.startsWith(m.slice(0, -1))));
    expect(media, `${label}: ${type} is not among ${mediaTypes.join(', ')}`).to.not.equal(undefined);
    if (media === 'application/json') {
      const body = (await response.json()) as Json;
      const result = validatorOf(documented!.content[media].schema).safeParse(body);
      expect(result.success, `${label}: ${JSON.stringify(result.error?.issues.slice(0, 3))}`).to.equal(true);
      return { status: response.status, body };
    } else if (media === 'text/event-stream') {
      const text = await response.text();
      const events = text.split('\n\n').filter((block) => block.includes('data: '));
      expect(events.length, label).to.be.greaterThan(0);
      const comparison = validatorOf({ $ref: '#/components/schemas/AttackComparison' });
      for (const event of events) {
        const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        const result = comparison.safeParse(JSON.parse(data));
        expect(result.success, `${label}: ${JSON.stringify(result.error?.issues.slice(0, 3))}`).to.equal(true);
      }
    } else {
      expect((await response.arrayBuffer()).byteLength, label).to.be.greaterThan(0);
    }
    return { status: response.status };
  }

  before(async function () {
    this.timeout(120_000);
    index = await cocoTestIndex();
    server = await startTestServer();
    document = (await (await fetch(url('/api/openapi.json'))).json()) as Json;
    imageId = index.idOf.get(index.files[3]!)!;
    const upload = (await (await fetch(url('/api/search?k=3'), { method: 'POST', body: photoForm() })).json()) as Json;
    sha256 = upload.query.sha256;
    dim = ((await (await fetch(url('/api/stats'))).json()) as Json).model.embeddingDim;
  });
  after(async () => server?.close());

  it('has a request that follows it for every operation it documents, and no others', () => {
    const documented = Object.entries(document.paths as Json).flatMap(([path, item]) => Object.keys(item as Json).map((method) => `${method} ${path}`));
    expect(documented.sort()).to.deep.equal(Object.keys(calls()).sort());
  });

  /**
   * A request that follows the document and, where a client can get one wrong, one with a mistake, for each
   * documented operation. The attack ones run in this order: start, status, events until done, an image, then
   * cancel (a fresh attack; cancelling the finished one is the mistake).
   */
  function calls(): Record<string, { ok: () => Promise<Call>; mistake?: () => Call }> {
    const unknownAttack = '00000000-0000-0000-0000-000000000000';
    const unknownUpload = '0'.repeat(64);
    const attack = { id: imageId, norm: 'linf', epsilon: '2/255', steps: 2, k: 3 };
    const at = (path: string, init?: RequestInit) => async (): Promise<Call> => ({ path, init });
    return {
      'post /api/search': { ok: async () => ({ path: '/api/search', init: { body: photoForm() } }), mistake: () => ({ path: '/api/search?k=0', init: { body: photoForm() } }) },
      'post /api/search/vector': {
        ok: at('/api/search/vector', jsonPost({ vector: new Array(dim).fill(1), k: 4, epsilon: '36/255', copyCheck: true })),
        mistake: () => ({ path: '/api/search/vector', init: jsonPost({ vector: 'abc' }) }),
      },
      'get /api/images/{id}/neighbours': { ok: at(`/api/images/${imageId}/neighbours`), mistake: () => ({ path: `/api/images/${imageId}/neighbours?epsilon=-1` }) },
      'get /api/uploads/{sha256}/neighbours': { ok: at(`/api/uploads/${sha256}/neighbours`), mistake: () => ({ path: `/api/uploads/${unknownUpload}/neighbours` }) },
      'get /api/uploads/{sha256}/budget.png': { ok: at(`/api/uploads/${sha256}/budget.png`), mistake: () => ({ path: `/api/uploads/${sha256}/budget.png?kind=stripes` }) },
      'get /api/uploads/{sha256}/file': { ok: at(`/api/uploads/${sha256}/file`), mistake: () => ({ path: `/api/uploads/${unknownUpload}/file` }) },
      'get /api/images': { ok: at('/api/images'), mistake: () => ({ path: '/api/images?perPage=100000' }) },
      'get /api/images/{id}': { ok: at(`/api/images/${imageId}`), mistake: () => ({ path: '/api/images/999999999' }) },
      'get /api/images/{id}/file': { ok: at(`/api/images/${imageId}/file`), mistake: () => ({ path: '/api/images/abc/file' }) },
      'get /api/images/{id}/budget.png': { ok: at(`/api/images/${imageId}/budget.png?kind=patch`), mistake: () => ({ path: `/api/images/${imageId}/budget.png?k=1000` }) },
      'get /api/images/{id}/thumbnail': { ok: at(`/api/images/${imageId}/thumbnail`), mistake: () => ({ path: '/api/images/0/thumbnail' }) },
      'get /api/stats': { ok: at('/api/stats') },
      'post /api/attacks': { ok: at('/api/attacks', jsonPost(attack)), mistake: () => ({ path: '/api/attacks', init: jsonPost({ id: imageId, goal: 'targeted' }) }) },
      'get /api/attacks/{id}': { ok: async () => ({ path: `/api/attacks/${attackId}` }), mistake: () => ({ path: '/api/attacks/not-an-id' }) },
      'get /api/attacks/{id}/events': { ok: async () => ({ path: `/api/attacks/${attackId}/events` }), mistake: () => ({ path: `/api/attacks/${unknownAttack}/events` }) },
      'get /api/attacks/{id}/images/{file}': {
        ok: async () => ({ path: `/api/attacks/${attackId}/images/lipsim-adversarial.png?download=1` }),
        mistake: () => ({ path: `/api/attacks/${attackId}/images/secret.png` }),
      },
      'post /api/attacks/{id}/cancel': {
        ok: async () => {
          const fresh = (await (await fetch(url('/api/attacks'), { method: 'POST', ...jsonPost({ ...attack, steps: 200 }) })).json()) as Json;
          return { path: `/api/attacks/${fresh.id}/cancel` };
        },
        mistake: () => ({ path: `/api/attacks/${attackId}/cancel` }),
      },
      'get /api/openapi.json': { ok: at('/api/openapi.json') },
    };
  }

  it('answers each operation as documented, for a request that follows the document and for one with a mistake', async function () {
    this.timeout(180_000);
    for (const [operation, { ok, mistake }] of Object.entries(calls())) {
      const [method, template] = operation.split(' ') as [string, string];
      const call = await ok();
      const answer = await expectDocumented(method, template, { ...call, path: withDocumentedDefaults(call.path, document.paths[template][method]) }, 'success');
      if (operation === 'post /api/attacks') attackId = answer.body!.id;
      if (mistake) await expectDocumented(method, template, mistake(), 'error');
    }
  });
});
