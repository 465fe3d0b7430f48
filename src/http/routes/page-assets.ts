/**
 * Static assets of the web pages: `/assets/app.css` and compiled page scripts under `/assets/js/`. They
 * carry no secret and no per-user content, so they may be cached; a new release changes their URLs
 * (`assetVersion`), and entity tags let a browser revalidate cheaply.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { httpLimits } from '../../domain/limits.js';
import { type Asset, scriptAsset, stylesheetAsset } from '../../web/assets.js';
import type { RoutePlugin } from '../dependencies.js';

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('etag', asset.etag);
  reply.header('cache-control', 'public, max-age=3600');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}

/** The asset routes; registered once for every page area. */
export function pageAssetRoutes(): RoutePlugin {
  return (app) => {
    app.get('/assets/app.css', { schema: { hide: true } }, async (request, reply) =>
      sendAsset(request, reply, stylesheetAsset),
    );
    app.get(
      '/assets/js/*',
      {
        schema: {
          hide: true,
          params: Type.Object({ '*': Type.String({ maxLength: httpLimits.pathParameterLengthMax }) }),
        },
      },
      async (request, reply) => {
        const asset = await scriptAsset(request.params['*']);
        if (asset === undefined) throw new CountersignError('route_not_found');
        return sendAsset(request, reply, asset);
      },
    );
  };
}
