/**
 * The Content-Security-Policy of pages. Scripts and styles come only from this origin's files (never
 * inline, never `eval`), images from this origin or `data:` URIs, forms post only here, no page may be
 * framed (clickjacking), and `<base>` cannot redirect relative URLs. Everything else is refused by
 * `default-src 'none'`. The JSON API keeps its own stricter default set in `http/app.ts`.
 */

/** What a page may add to the base policy. */
export interface PagePolicyOptions {
  /** Allows `fetch` to this origin (`connect-src 'self'`), for page scripts that call back (keep-alive). */
  readonly connectToSelf?: boolean;
}

/** The base policy every page carries. */
export const basePagePolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The policy of a page with `options`. */
export function pageContentSecurityPolicy(options: PagePolicyOptions = {}): string {
  return options.connectToSelf === true ? `${basePagePolicy}; connect-src 'self'` : basePagePolicy;
}
