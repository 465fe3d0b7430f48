/**
 * The page layout every area shares: document head, a skip link, the site header with the area's
 * navigation and sign-out button, the main landmark, a notice or error banner, and the footer. Pages pass
 * their content as `SafeHtml`; the layout adds nothing that a request could have chosen.
 */
import { csrfFieldName } from './csrf.js';
import { type HtmlValue, html, type SafeHtml } from './html.js';

/** Version of the static assets, in their URLs, so that a new release is never served a stale cached file. */
export const assetVersion = '1';

/** URL of the shared stylesheet. */
export const stylesheetUrl = `/assets/app.css?v=${assetVersion}`;

/**
 * URL of a compiled page script, by its source path under `src/` without extension:
 * `scriptUrl('web/scripts/idle-timeout')` → `/assets/js/web/scripts/idle-timeout.js`.
 */
export function scriptUrl(sourcePath: string): string {
  return `/assets/js/${sourcePath}.js?v=${assetVersion}`;
}

/** One navigation link. */
export interface NavigationLink {
  readonly href: string;
  readonly label: string;
}

/** A banner above the page content: a fixed sentence of the page, or an error message from the catalog. */
export interface Banner {
  readonly kind: 'notice' | 'error' | 'warning';
  readonly text: string;
}

/**
 * The banner a `notice` query value names in an area's table of fixed sentences, if it names one: the query
 * only ever picks a sentence, so a link cannot put text of its own on a page.
 */
export function noticeOf(notices: Readonly<Record<string, Banner>>, notice: unknown): Banner[] {
  if (typeof notice !== 'string' || !Object.hasOwn(notices, notice)) return [];
  return [notices[notice]!];
}

/** Everything a page gives the layout. */
export interface LayoutOptions {
  /** The page's own title; the document title becomes "<title> · Countersign". */
  readonly title: string;
  /** Name of the area, shown next to the brand: "Payments", "Operator console". */
  readonly areaName: string;
  /** Where the brand links to. */
  readonly homeHref: string;
  readonly body: SafeHtml;
  readonly navigation?: readonly NavigationLink[];
  /** The path of the current page, to mark its navigation link with `aria-current`. */
  readonly currentPath?: string;
  /** When signed in: the sign-out form's action and its CSRF token. */
  readonly signOut?: { readonly action: string; readonly csrfToken: string };
  readonly banners?: readonly Banner[];
  /** Script source paths (see `scriptUrl`), loaded as deferred modules. */
  readonly scripts?: readonly string[];
  /** `data-*` attributes of `<body>`, for page scripts (names without the `data-` prefix). */
  readonly data?: Readonly<Record<string, string | number>>;
  /** A narrow column for short forms such as sign-in. */
  readonly narrow?: boolean;
}

/** A hidden input carrying the CSRF token; every POST form of the pages includes one. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${csrfFieldName}" value="${token}">`;
}

function navigationOf(options: LayoutOptions): SafeHtml {
  const links = options.navigation ?? [];
  if (links.length === 0) return html``;
  const items = links.map(
    (link) =>
      html`<li><a href="${link.href}"${link.href === options.currentPath ? html` aria-current="page"` : ''}>${link.label}</a></li>`,
  );
  return html`<nav aria-label="${options.areaName}"><ul>${items}</ul></nav>`;
}

function bannerOf(banner: Banner): SafeHtml {
  const role = banner.kind === 'notice' ? 'status' : 'alert';
  return html`<div class="${banner.kind}" role="${role}">${banner.text}</div>`;
}

function dataAttributes(data: LayoutOptions['data']): HtmlValue {
  if (data === undefined) return '';
  return Object.entries(data).map(
    ([name, value]) => html` data-${name.replace(/[^a-z0-9-]/g, '')}="${value}"`,
  );
}

/** The whole HTML document of a page. */
export function renderLayout(options: LayoutOptions): SafeHtml {
  const scripts = (options.scripts ?? []).map(
    (source) => html`<script type="module" src="${scriptUrl(source)}"></script>`,
  );
  const signOut =
    options.signOut === undefined
      ? ''
      : html`<form method="post" action="${options.signOut.action}">${csrfField(options.signOut.csrfToken)}<button type="submit">Sign out</button></form>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · Countersign</title>
<link rel="stylesheet" href="${stylesheetUrl}">
${scripts}
</head>
<body${dataAttributes(options.data)}>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<a class="brand" href="${options.homeHref}">Countersign</a><span class="area">${options.areaName}</span>
${navigationOf(options)}
${signOut}
</header>
<main id="main"${options.narrow === true ? html` class="narrow"` : ''}>
${(options.banners ?? []).map(bannerOf)}
${options.body}
</main>
<footer>Countersign — every payment approved with a one-time transaction code.</footer>
</body>
</html>
`;
}
