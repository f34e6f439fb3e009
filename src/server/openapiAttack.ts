import { DEFAULT_ATTACK_K, DEFAULT_ATTACK_STEPS, MAX_ATTACK_K, MAX_ATTACK_PAGE_STEPS } from './attackParams.js';

/** The attack-comparison part of the OpenAPI document (merged into openapi.ts). */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (status: number) => ({ $ref: `#/components/responses/E${status}` });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'the attack id returned when it was started' };
const comparison = { description: 'the comparison (status, and the results once done)', content: json(ref('AttackComparison')) };

const startFields = {
  id: { type: 'integer', minimum: 1, description: 'query: a corpus image' },
  upload: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'query: an earlier upload (its sha256)' },
  goal: { enum: ['untargeted', 'targeted'], default: 'untargeted (targeted when target is given)' },
  target: { type: 'integer', minimum: 1, description: 'targeted: the corpus image to bring to the top' },
  norm: { enum: ['l2', 'linf'], default: 'l2' },
  epsilon: {
    type: ['number', 'string'],
    example: '8/255',
    description: 'budget of ‖δ‖ in model-input space (values in [0, 1]); a number or a fraction; from 1/255 to 100 (l2) or 1 (linf). Default 1 (l2), 4/255 (linf)',
  },
  steps: { type: 'integer', minimum: 1, maximum: MAX_ATTACK_PAGE_STEPS, default: DEFAULT_ATTACK_STEPS },
  k: { type: 'integer', minimum: 1, maximum: MAX_ATTACK_K, default: DEFAULT_ATTACK_K, description: 'results listed before and after' },
};

const ranked = {
  type: 'array',
  items: { type: 'object', properties: { rank: { type: 'integer' }, id: { type: 'integer' }, distance: { type: 'number' }, urls: { type: 'object' } } },
};
const certificateCheck = {
  type: 'object',
  properties: {
    radius: { type: ['number', 'null'], description: 'certified ℓ₂ radius computed before the attack (null: unbounded)' },
    covered: { type: 'boolean', description: '‖δ‖₂ < radius: the certificate covered this attack' },
    changed: { type: 'boolean' },
    verdict: { enum: ['held', 'broken', 'not-covered'], description: 'broken (covered yet changed) would be a bug' },
  },
};

export const attackPaths = {
  '/api/attacks': {
    post: {
      summary: 'Start an adversarial comparison: PGD attacks of one query against LipSim and the non-robust baseline',
      description:
        'The query is an image file (multipart field "image"; it wins when sent), a corpus image (id) or an earlier upload (upload). ' +
        'Both attacks start from the query’s 224×224 model input on the 8-bit grid and stay on it, so each adversarial image is an exact PNG. ' +
        'Answers 202 with the comparison; follow it with GET /api/attacks/{id} or its event stream.',
      requestBody: {
        required: true,
        content: {
          ...json({ type: 'object', properties: startFields }),
          'multipart/form-data': { schema: { type: 'object', properties: { image: { type: 'string', format: 'binary' }, ...startFields } } },
        },
      },
      responses: {
        '202': { ...comparison, headers: { Location: { schema: { type: 'string' }, description: 'the comparison’s status URL' } } },
        '400': error(400),
        '404': error(404),
        '410': error(410),
        '413': error(413),
        '415': error(415),
        '429': error(429),
      },
    },
  },
  '/api/attacks/{id}': {
    get: { summary: 'Status of a comparison, with its results once done (recent comparisons only)', parameters: [idParam], responses: { '200': comparison, '404': error(404) } },
  },
  '/api/attacks/{id}/events': {
    get: {
      summary: 'Server-sent events: one `status` event (the AttackComparison JSON) per change, until the comparison ends',
      parameters: [idParam],
      responses: { '200': { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, '404': error(404) },
    },
  },
  '/api/attacks/{id}/cancel': {
    post: { summary: 'Cancel a comparison (its attacks stop within a step)', parameters: [idParam], responses: { '202': comparison, '404': error(404), '409': error(409) } },
  },
  '/api/attacks/{id}/images/{file}': {
    get: {
      summary: 'A PNG of the comparison: the clean query, each adversarial query (224×224, exactly the model input), each perturbation amplified',
      parameters: [
        idParam,
        {
          name: 'file',
          in: 'path',
          required: true,
          schema: { enum: ['clean.png', 'lipsim-adversarial.png', 'lipsim-perturbation.png', 'baseline-adversarial.png', 'baseline-perturbation.png'] },
        },
        { name: 'download', in: 'query', schema: { type: 'string' }, description: 'present: sent as an attachment' },
      ],
      responses: { '200': { description: 'the image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, '404': error(404) },
    },
  },
};

export const attackSchemas = {
  AttackComparison: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      state: { enum: ['preparing', 'running', 'done', 'failed', 'cancelled'] },
      finished: { type: 'boolean' },
      phase: { type: 'string', description: 'what the comparison is doing, in words' },
      error: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: ['string', 'null'], format: 'date-time' },
      params: { type: 'object', properties: { query: { type: 'object' }, ...startFields } },
      clean: { type: ['object', 'null'], properties: { image: { type: 'string' }, search: { type: 'string' } } },
      models: {
        type: 'array',
        description: 'LipSim first, then the baseline',
        items: {
          type: 'object',
          properties: {
            model: { enum: ['lipsim', 'baseline'] },
            version: { type: 'string' },
            robust: { type: 'boolean', description: '1-Lipschitz: its bounds and certificate apply' },
            state: { enum: ['waiting', 'queued', 'running', 'done', 'failed', 'cancelled'] },
            progress: { type: ['object', 'null'], properties: { step: { type: 'integer' }, steps: { type: 'integer' }, loss: { type: 'number' }, bestLoss: { type: 'number' } } },
            error: { type: ['string', 'null'] },
            before: {
              type: ['object', 'null'],
              properties: {
                compared: { type: 'integer' },
                results: ranked,
                certificate: {
                  type: ['object', 'null'],
                  description: 'LipSim: certified ℓ₂ radii of the clean answer (model input)',
                  properties: { scope: { enum: ['exact', 'index'] }, top1: { type: ['number', 'null'] }, topkSet: { type: ['number', 'null'] } },
                },
              },
            },
            outcome: {
              type: ['object', 'null'],
              properties: {
                norms: { type: 'object', properties: { l2: { type: 'number' }, linf: { type: 'number' } }, description: '‖δ‖₂ and ‖δ‖∞ of the adversarial image' },
                withinBudget: { type: 'boolean' },
                stepsRun: { type: 'integer' },
                stopReason: { enum: ['completed', 'goal-reached', 'no-improvement'] },
                goalReached: { type: ['boolean', 'null'] },
                distance: { type: 'number', description: 'd(x, x+δ)' },
                bounds: {
                  type: 'object',
                  description: 'what a 1-Lipschitz model guarantees for d(x, x+δ) at ‖δ‖₂: sphere ‖δ‖₂²/2, Prop 4.1 ‖δ‖₂',
                  properties: { l2: { type: 'number' }, sphere: { type: 'number' }, prop41: { type: 'number' } },
                },
                withinBound: { type: 'boolean' },
                after: ranked,
                top1Changed: { type: 'boolean' },
                topkSetChanged: { type: 'boolean' },
                certificate: { type: ['object', 'null'], properties: { top1: certificateCheck, topkSet: certificateCheck } },
                neighbourIntervals: { type: 'object', properties: { checked: { type: 'integer' }, outside: { type: 'array', items: { type: 'integer' } } } },
                perturbationGain: { type: 'number' },
                urls: { type: 'object', properties: { adversarial: { type: 'string' }, download: { type: 'string' }, perturbation: { type: 'string' }, search: { type: ['string', 'null'] } } },
              },
            },
          },
        },
      },
      urls: { type: 'object', properties: { self: { type: 'string' }, events: { type: 'string' }, cancel: { type: 'string' }, page: { type: 'string' } } },
    },
  },
};
