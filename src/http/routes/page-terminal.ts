/**
 * The browser authenticator (`/terminal/`): one page whose script (`src/web/terminal/scripts/app.ts`)
 * does everything through the signed terminal API, so the page itself has no form posts, no cookies and
 * no session; plus its web-app manifest, icon and service worker (installable, usable offline for
 * computing second codes). The page carries no payer data: all of it arrives signed, after unlocking.
 */
import type { FastifyReply } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { scriptAsset } from '../../web/assets.js';
import { pageContentSecurityPolicy } from '../../web/csp.js';
import { renderLayout } from '../../web/layout.js';
import { sendPage } from '../../web/page-context.js';
import {
  terminalIcon,
  terminalManifest,
  terminalPageBody,
  terminalPageScripts,
} from '../../web/terminal/terminal-page.js';
import type { RoutePlugin } from '../dependencies.js';

/** The page's policy: the base one, plus fetch to this origin, its service worker and its manifest. */
const pagePolicy = `${pageContentSecurityPolicy({ connectToSelf: true })}; worker-src 'self'; manifest-src 'self'`;

function withPageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', pagePolicy)
    .header('cache-control', 'no-cache')
    .header('permissions-policy', 'camera=(self), microphone=(), geolocation=()');
}

/** Routes of the browser authenticator. */
export function terminalPageRoutes(): RoutePlugin {
  return (app, deps) => {
    const page = renderLayout({
      title: 'Second terminal',
      areaName: 'Second terminal',
      homeHref: '/terminal/',
      narrow: true,
      body: terminalPageBody(),
      scripts: terminalPageScripts,
      data: { 'platform-url': deps.config.publicUrl },
    });

    app.get('/terminal', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(308).header('location', '/terminal/').send(),
    );

    app.get('/terminal/', { schema: { hide: true } }, async (_request, reply) =>
      sendPage(withPageHeaders(reply), page),
    );

    app.get('/terminal/manifest.webmanifest', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('application/manifest+json; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(JSON.stringify(terminalManifest)),
    );

    app.get('/terminal/icon.svg', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(terminalIcon),
    );

    app.get('/terminal/service-worker.js', { schema: { hide: true } }, async (_request, reply) => {
      const asset = await scriptAsset('web/terminal/scripts/service-worker.js');
      if (asset === undefined) throw new CountersignError('route_not_found');
      // A worker's policy comes from its script's response: it may fetch this origin's files, nothing else.
      return reply
        .type(asset.contentType)
        .header('content-security-policy', "default-src 'none'; connect-src 'self'")
        .header('cache-control', 'no-cache')
        .send(asset.body);
    });
  };
}
