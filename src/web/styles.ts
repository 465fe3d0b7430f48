/**
 * The stylesheet of every page, served as `/assets/app.css`. It lives in a module rather than a .css file
 * so that the server finds it the same way whether it runs from `src/` (tests) or `dist/` (production),
 * without a copy step. Colours keep a contrast ratio of at least 4.5:1 against their background (WCAG AA),
 * and every focusable element shows a visible focus ring.
 */
export const stylesheet = `
:root {
  --ink: #1b1f24; --muted: #4a5560; --line: #c9d1d9; --paper: #ffffff; --wash: #f3f5f7;
  --accent: #0b5cad; --accent-ink: #ffffff; --good: #17663a; --good-wash: #e5f4ea;
  --bad: #a4161a; --bad-wash: #fbe9e9; --warn: #7a4d00; --warn-wash: #fff4d6; --focus: #ffbf47;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 16px; line-height: 1.5;
  color: var(--ink); background: var(--wash);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
.skip { position: absolute; left: -10000px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip:focus { left: 1rem; top: 1rem; background: var(--paper); padding: .5rem; z-index: 2; }
header.site {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1.5rem;
  background: #12263f; color: #ffffff;
}
header.site .brand { font-weight: 700; font-size: 1.15rem; color: #ffffff; text-decoration: none; }
header.site .area { color: #d7e3f0; }
header.site nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.site nav a { color: #ffffff; text-decoration: none; padding: .25rem 0; }
header.site nav a[aria-current="page"] { border-bottom: 3px solid var(--focus); }
header.site form { margin-left: auto; }
header.site button { background: transparent; color: #ffffff; border: 1px solid #ffffff; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
main.narrow { max-width: 30rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
section.card, form.card, div.card, details.card {
  background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem;
  margin-bottom: 1rem;
}
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
.hint { display: block; color: var(--muted); font-size: .9rem; font-weight: 400; }
input, select {
  font: inherit; padding: .5rem .6rem; border: 1px solid #6b7680; border-radius: 4px; width: 100%;
  max-width: 24rem; background: var(--paper); color: var(--ink);
}
input[aria-invalid="true"] { border-color: var(--bad); }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .75rem 0; padding: .5rem 1rem; }
fieldset label { display: inline; font-weight: 400; margin-right: 1rem; }
fieldset input { width: auto; }
legend { font-weight: 600; }
button, .button {
  font: inherit; display: inline-block; padding: .5rem 1rem; margin-top: 1rem; border-radius: 4px; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); text-decoration: none;
}
button.secondary, .button.secondary { background: var(--paper); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
form.inline { display: inline; }
form.inline button { margin-top: 0; padding: .2rem .6rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; }
form.filters label { margin: 0; }
form.filters input, form.filters select { width: 12rem; }
form.filters button { margin-top: 0; }
table { border-collapse: collapse; width: 100%; background: var(--paper); }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--wash); font-weight: 600; }
td.amount, th.amount { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .9rem; word-break: break-all; }
.notice, .error, .warning { border-radius: 4px; padding: .75rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.notice { background: var(--good-wash); border-color: var(--good); color: var(--good); }
.error { background: var(--bad-wash); border-color: var(--bad); color: var(--bad); }
.warning { background: var(--warn-wash); border-color: var(--warn); color: var(--warn); }
.status { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid; }
.status.succeeded, .status.ok { color: var(--good); background: var(--good-wash); }
.status.failed, .status.broken, .status.locked { color: var(--bad); background: var(--bad-wash); }
.status.requires_approval, .status.pending { color: var(--warn); background: var(--warn-wash); }
.status.canceled, .status.expired, .status.delivered { color: var(--muted); background: var(--wash); }
.balances { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 1rem; }
.balance .available { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.balance .held { color: var(--muted); }
.code { font-family: ui-monospace, Menlo, monospace; font-size: 2rem; letter-spacing: .2em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 1rem; }
.tile { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
.tile .value { font-size: 1.6rem; font-weight: 700; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
figure { margin: 0; }
main > form + section.card { margin-top: 1rem; }
svg.chart { width: 100%; height: auto; max-width: 48rem; background: var(--paper); }
svg.chart .bar { fill: var(--accent); }
svg.chart .axis { stroke: var(--muted); }
svg.chart text { fill: var(--muted); font-size: 11px; }
.qr svg { width: 14rem; height: 14rem; }
#idle-warning[hidden] { display: none; }
/* Elements that set their own display (buttons, .card) still disappear when a script hides them. */
[hidden] { display: none !important; }
ul.challenges { list-style: none; margin: 0; padding: 0; }
ul.challenges .amount { font-size: 1.3rem; font-weight: 700; font-variant-numeric: tabular-nums; }
#idle-warning { position: sticky; top: 0; z-index: 1; }
footer { color: var(--muted); text-align: center; padding: 2rem 1rem; font-size: .9rem; }
@media (max-width: 40rem) { main { padding: 1rem; } th, td { padding: .35rem; } }
`;
