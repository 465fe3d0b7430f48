/**
 * Static assets of the pages: the stylesheet (from `styles.ts`) and the page scripts. Scripts are written
 * in TypeScript under `src/web/**\/scripts/` and compiled by `tsc` into `dist/` (`npm run build`, or
 * `tsconfig.web.json` for the scripts alone); they are served from there whether the server runs from
 * `src/` or `dist/`. Only compiled page scripts and the pure modules they may import, of `domain/` (OCRA runs
 * in browsers too) and `terminal-core/` (the second terminal's vault and signed client, shared with the
 * command line), can be fetched; no other file of the project is reachable.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stylesheet } from './styles.js';

/** A static file ready to send. */
export interface Asset {
  readonly body: string;
  readonly contentType: string;
  /** Strong entity tag, for `If-None-Match`. */
  readonly etag: string;
}

/** The directory compiled modules live in: `<project>/dist`, from either `src/web` or `dist/web`. */
export const compiledRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

/** Paths under `/assets/js/` that may be served: page scripts, and flat pure domain and terminal-core modules. */
const servablePattern =
  /^(?:web\/(?:[a-z0-9-]+\/)*scripts\/[a-z0-9-]+|(?:domain|terminal-core)\/[a-z0-9-]+)\.js$/;

function entityTag(body: string): string {
  return `"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 27)}"`;
}

/** The stylesheet. */
export const stylesheetAsset: Asset = Object.freeze({
  body: stylesheet,
  contentType: 'text/css; charset=utf-8',
  etag: entityTag(stylesheet),
});

const scriptCache = new Map<string, Asset>();

/**
 * Third-party browser modules the pages load, vendored from the installed package (never a CDN): the
 * WebAuthn browser library's UMD bundle, which defines `globalThis.SimpleWebAuthnBrowser`.
 */
const vendorFiles: Readonly<Record<string, () => string>> = {
  'vendor/simplewebauthn-browser.js': () =>
    path.join(
      path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
      '..',
      'dist',
      'bundle',
      'index.umd.min.js',
    ),
};

/**
 * The compiled script at `relativePath` (e.g. `web/scripts/idle-timeout.js`), or undefined when the path
 * is not a servable script or was not built. Files are read once and kept: they change only with a release.
 */
export async function scriptAsset(relativePath: string): Promise<Asset | undefined> {
  const vendor = Object.hasOwn(vendorFiles, relativePath) ? vendorFiles[relativePath] : undefined;
  if (vendor === undefined && !servablePattern.test(relativePath)) return undefined;
  const cached = scriptCache.get(relativePath);
  if (cached !== undefined) return cached;
  let body: string;
  try {
    body = await readFile(vendor?.() ?? path.join(compiledRoot, relativePath), 'utf8');
  } catch {
    return undefined;
  }
  // The compiled file ends with a source-map comment naming a map that is not served.
  body = body.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  const asset: Asset = { body, contentType: 'text/javascript; charset=utf-8', etag: entityTag(body) };
  scriptCache.set(relativePath, asset);
  return asset;
}
