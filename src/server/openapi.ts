import { z } from 'zod';
import { attackPaths } from './openapiAttack.js';
import { AttackComparison } from './attackResponseSchemas.js';
import { componentSchemas, errors, parametersOf, requestSchema } from './openapiSchemas.js';
import { budgetFields, imageIdParam, pageFields, searchFields, sha256Param, vectorSearchBody } from './params.js';
import { CertificateBody, ErrorBody, ImageBody, ImagePage, SearchResponse, StatsBody } from './responseSchemas.js';

/**
 * The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json). Every parameter, request body and
 * response body comes from the zod schemas the server validates requests with and types its answers by.
 */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const searchQuery = parametersOf(searchFields(), 'query');
const idPath = parametersOf(z.object({ id: imageIdParam }), 'path');
const shaPath = parametersOf(z.object({ sha256: sha256Param }), 'path');
const versionQuery = parametersOf(
  z.object({ v: z.string().optional().describe("the image's sha256: when it matches, the response is cached as immutable") }),
  'query',
);
const imageBody = { 'image/*': { schema: { type: 'string', format: 'binary' } } };
const searchAnswer = { '200': { description: 'results and certificate', content: json(ref('SearchResponse')) } };

const budgetPng = (summary: string, path: object[]) => ({
  get: {
    summary,
    parameters: [...path, ...parametersOf(budgetFields, 'query')],
    responses: { '200': { description: 'a 224×224 PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, ...errors(400, 404, 409, 410, 422) },
  },
});

export const ERROR_STATUSES: Record<number, string> = {
  400: 'invalid parameter, malformed body or an upload that is not an image',
  404: 'no such image or route, or an upload this server has no record of (never made here, or before a restart)',
  409: 'the index was built with another model, the image is not embedded yet, or the attack has already finished',
  410: 'the uploaded query was kept and has been dropped since, or the original file is no longer available',
  413: 'upload larger than the byte or pixel limit',
  415: 'wrong content type',
  422: 'nothing to draw: the first result is not certified (radius 0) or no change can alter it (radius +∞)',
  429: 'every attack slot is busy: try again in a few seconds (see Retry-After)',
};

export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'lipsearch API',
      version,
      description:
        'Certified-robust image search. Every answer carries a certificate: distance intervals for a perturbation budget ε ' +
        'and radii within which the answer cannot change, for the 1-Lipschitz LipSim embedding. Errors are JSON {error:{code,message}}.',
    },
    servers: [{ url: '/' }],
    paths: {
      '/api/search': {
        post: {
          summary: 'Search by an uploaded image',
          description: 'Send the image as multipart/form-data (field "image", and the search fields as form fields or in the query string) or as a raw image/* body. Upload size and decoded pixels are limited.',
          parameters: searchQuery,
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: requestSchema(searchFields().extend({ image: z.string().meta({ format: 'binary' }) })) },
              ...imageBody,
            },
          },
          responses: { ...searchAnswer, ...errors(400, 409, 413, 415) },
        },
      },
      '/api/search/vector': {
        post: {
          summary: 'Search by a raw embedding (normalised to unit length; its dimension must match the model)',
          requestBody: { required: true, content: json(requestSchema(vectorSearchBody)) },
          responses: { ...searchAnswer, ...errors(400, 409, 413, 415) },
        },
      },
      '/api/images/{id}/neighbours': {
        get: {
          summary: 'Neighbours of a corpus image (its stored vector is the query; radii in model-input space only)',
          parameters: [...idPath, ...searchQuery],
          responses: { ...searchAnswer, ...errors(400, 404, 409) },
        },
      },
      '/api/uploads/{sha256}/neighbours': {
        get: {
          summary: 'Search again with an earlier upload (kept in a bounded cache; 410 once evicted, 404 when this server has no record of it)',
          parameters: [...shaPath, ...searchQuery],
          responses: { ...searchAnswer, ...errors(400, 404, 409, 410) },
        },
      },
      '/api/uploads/{sha256}/budget.png': budgetPng("An earlier upload's model input plus a change of exactly its certified top-1 radius", shaPath),
      '/api/uploads/{sha256}/file': {
        get: {
          summary: 'An earlier uploaded query image',
          parameters: shaPath,
          responses: { '200': { description: 'the image', content: imageBody }, ...errors(404, 410) },
        },
      },
      '/api/images': {
        get: {
          summary: 'A page of corpus images, by id',
          parameters: parametersOf(pageFields, 'query'),
          responses: { '200': { description: 'images', content: json(ref('ImagePage')) }, ...errors(400) },
        },
      },
      '/api/images/{id}': {
        get: { summary: 'A corpus image record', parameters: idPath, responses: { '200': { description: 'the record', content: json(ref('Image')) }, ...errors(404) } },
      },
      '/api/images/{id}/file': {
        get: {
          summary: 'The original image file (formats browsers cannot show are sent as PNG)',
          parameters: [...idPath, ...versionQuery],
          responses: { '200': { description: 'the image', content: imageBody }, ...errors(404, 410) },
        },
      },
      '/api/images/{id}/budget.png': budgetPng("A corpus image's model input plus a change of exactly its certified top-1 radius", idPath),
      '/api/images/{id}/thumbnail': {
        get: {
          summary: 'A WebP thumbnail',
          parameters: [...idPath, ...versionQuery],
          responses: { '200': { description: 'the thumbnail', content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } } }, ...errors(404, 410) },
        },
      },
      '/api/stats': {
        get: { summary: 'Corpus size, index state and the model card', responses: { '200': { description: 'statistics', content: json(ref('Stats')) } } },
      },
      ...attackPaths,
      '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
    },
    components: {
      responses: Object.fromEntries(
        Object.entries(ERROR_STATUSES).map(([status, description]) => [`E${status}`, { description, content: json(ref('Error')) }]),
      ),
      schemas: componentSchemas({
        Error: ErrorBody,
        Image: ImageBody,
        ImagePage,
        Certificate: CertificateBody,
        SearchResponse,
        Stats: StatsBody,
        AttackComparison,
      }),
    },
  };
}
