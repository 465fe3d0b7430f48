// Proves that the html template escapes every interpolated value unless it is SafeHtml, so request text never becomes markup.
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, joinHtml, pathWithQuery, SafeHtml, trustedHtml } from './html.js';

describe('html', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('escapes interpolated strings, in content and in attributes', () => {
    const evil = '"><script>alert(1)</script>';
    const markup = html`<input value="${evil}"><p>${evil}</p>`.markup;
    expect(markup).not.toContain('<script>');
    expect(markup).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"><p>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
  });

  it('inserts nested templates and arrays of them as they are, and escapes arrays of strings', () => {
    const items = ['<b>', 'c&d'].map((text) => html`<li>${text}</li>`);
    expect(html`<ul>${items}</ul>`.markup).toBe('<ul><li>&lt;b&gt;</li><li>c&amp;d</li></ul>');
    expect(html`${['<i>', 1n, 2]}`.markup).toBe('&lt;i&gt;12');
  });

  it('renders nothing for false, null and undefined, and numbers and bigints as text', () => {
    expect(html`[${false}${null}${undefined}${0}${12n}]`.markup).toBe('[012]');
  });

  it('takes trusted markup only through trustedHtml, and joins pieces with an escaped separator', () => {
    expect(html`${trustedHtml('<svg></svg>')}`.markup).toBe('<svg></svg>');
    expect(joinHtml([html`<a>`, html`<b>`], '<br>').markup).toBe('<a>&lt;br&gt;<b>');
    expect(html`x` instanceof SafeHtml).toBe(true);
    expect(String(html`<p>${'&'}</p>`)).toBe('<p>&amp;</p>');
  });

  it('builds query strings with every name and value percent-encoded, skipping empty values', () => {
    expect(pathWithQuery('/operator/payers', { q: 'a b&c=d', after: undefined, empty: '' })).toBe(
      '/operator/payers?q=a%20b%26c%3Dd',
    );
    expect(pathWithQuery('/x', {})).toBe('/x');
  });
});
