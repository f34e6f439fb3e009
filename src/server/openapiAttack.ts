import { z } from 'zod';
import { attackStartFields } from './attackParams.js';
import { errors, parametersOf, requestSchema } from './openapiSchemas.js';

/** The attack-comparison part of the OpenAPI document (merged into openapi.ts). */

const json = (schema: object) => ({ 'application/json': { schema } });
const comparison = { description: 'the comparison (status, and the results once done)', content: json({ $ref: '#/components/schemas/AttackComparison' }) };
const idPath = parametersOf(z.object({ id: z.string().meta({ format: 'uuid' }).describe('the attack id returned when it was started') }), 'path');
const png = { description: 'the image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } };

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
          ...json(requestSchema(attackStartFields)),
          'multipart/form-data': { schema: requestSchema(attackStartFields.extend({ image: z.string().meta({ format: 'binary' }).optional() })) },
        },
      },
      responses: {
        '202': { ...comparison, headers: { Location: { schema: { type: 'string' }, description: 'the comparison’s status URL' } } },
        ...errors(400, 404, 410, 413, 415, 429),
      },
    },
  },
  '/api/attacks/{id}': {
    get: { summary: 'Status of a comparison, with its results once done (recent comparisons only)', parameters: idPath, responses: { '200': comparison, ...errors(404) } },
  },
  '/api/attacks/{id}/events': {
    get: {
      summary: 'Server-sent events: one `status` event (the AttackComparison JSON) per change, until the comparison ends',
      parameters: idPath,
      responses: { '200': { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors(404) },
    },
  },
  '/api/attacks/{id}/cancel': {
    post: { summary: 'Cancel a comparison (its attacks stop within a step)', parameters: idPath, responses: { '202': comparison, ...errors(404, 409) } },
  },
  '/api/attacks/{id}/images/{file}': {
    get: {
      summary: 'A PNG of the comparison: the clean query, each adversarial query (224×224, exactly the model input), each perturbation amplified',
      parameters: [
        ...idPath,
        ...parametersOf(
          z.object({ file: z.enum(['clean.png', 'lipsim-adversarial.png', 'lipsim-perturbation.png', 'baseline-adversarial.png', 'baseline-perturbation.png']) }),
          'path',
        ),
        ...parametersOf(z.object({ download: z.string().optional().describe('present: sent as an attachment') }), 'query'),
      ],
      responses: { '200': png, ...errors(404) },
    },
  },
};
