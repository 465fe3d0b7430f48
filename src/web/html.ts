/**
 * The one way pages build markup: the `html` tagged template. Every interpolated value is escaped unless it
 * is itself the result of `html` (a `SafeHtml`), so text from a request, a database row or an error can
 * never become markup. Markup that did not come from `html` enters only through `trustedHtml`, whose name
 * makes every such place easy to find and review.
 *
 * Escaping `& < > " '` makes a value safe in element content and in QUOTED attribute values. It does not
 * make a value safe as a URL (a `javascript:` link is still a link), inside `<script>` or `<style>`, or
 * in an unquoted attribute: pages build links from path constants and `encodeURIComponent`, and have no
 * inline scripts or styles at all (the Content-Security-Policy refuses them anyway).
 */

/** Markup that is safe to send as it is: built by `html`, or vouched for by `trustedHtml`. */
export class SafeHtml {
  /** Use `html` or `trustedHtml`; the constructor is public only so that `instanceof` works across modules. */
  constructor(readonly markup: string) {}

  /** The markup, so that a SafeHtml can be sent as a response body. */
  toString(): string {
    return this.markup;
  }
}

/** A value a template may interpolate. `false`, `null` and `undefined` render nothing (for `cond && html`). */
export type HtmlValue =
  | SafeHtml
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | readonly HtmlValue[];

const escapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => escapes[character]!);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.markup;
  if (value === null || value === undefined || value === false) return '';
  if (value === true) return 'true';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * The tagged template: `html\`<p>${name}</p>\`` escapes `name`; nested `html` results and arrays of them
 * are inserted as they are.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let markup = strings[0] ?? '';
  for (let index = 0; index < values.length; index += 1) {
    markup += render(values[index]) + (strings[index + 1] ?? '');
  }
  return new SafeHtml(markup);
}

/**
 * Wraps markup produced by trusted code (an SVG from the QR code library, a chart built from numbers) so
 * that `html` inserts it unescaped. Never pass text that came from a request or the database.
 */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Joins SafeHtml pieces with a separator (itself escaped when it is a string). */
export function joinHtml(pieces: readonly SafeHtml[], separator: HtmlValue = ''): SafeHtml {
  const between = render(separator);
  return new SafeHtml(pieces.map((piece) => piece.markup).join(between));
}

/**
 * A path with query parameters, each name and value percent-encoded, for `href` and `action` attributes.
 * `base` must be a constant path of the platform (it is not checked for a scheme).
 */
export function pathWithQuery(
  base: string,
  query: Readonly<Record<string, string | number | undefined | null>>,
): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? base : `${base}?${parts.join('&')}`;
}

/** A list's next-page link with the current query kept; undefined on the last page (no `after`). */
export function nextPage<Query extends { readonly [name in keyof Query]: string | undefined }>(
  base: string,
  query: Query,
  after: string | undefined,
): string | undefined {
  return after === undefined ? undefined : pathWithQuery(base, { ...query, after });
}
