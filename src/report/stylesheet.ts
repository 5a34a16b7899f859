/** The report's only styling; inlined so the HTML file is complete on its own. */
export const STYLESHEET = `
:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --tint: #f6f8fa; --link: #0a58ca; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 64px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 1.8rem; line-height: 1.25; margin: 0 0 6px; }
h2 { font-size: 1.2rem; line-height: 1.3; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.subtitle { color: var(--muted); margin: 0 0 20px; }
nav.contents { margin: 0 0 32px; padding: 12px 16px; background: var(--tint); border-radius: 6px; }
nav.contents ol { margin: 0; padding-left: 20px; }
section { margin: 0 0 44px; }
section p { margin: 0 0 10px; }
.table-wrap, figure.chart { overflow-x: auto; margin: 0; }
/* A table wider than the column after its headers wrap scrolls with a scrollbar drawn here, not
   the platform's, which macOS and touch screens hide until one scrolls. */
.table-wrap { scrollbar-width: thin; scrollbar-color: var(--muted) var(--tint); }
.table-wrap::-webkit-scrollbar { height: 10px; }
.table-wrap::-webkit-scrollbar-track { background: var(--tint); }
.table-wrap::-webkit-scrollbar-thumb { background: var(--muted); border-radius: 5px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
/* Headers wrap (at spaces only) so that a table of many short columns fits the column. */
thead th { border-bottom: 2px solid var(--fg); font-weight: 600; vertical-align: bottom; }
tbody tr:nth-child(even) { background: var(--tint); }
th.num, td.num { text-align: right; }
/* A figure such as "0.330 ± 0.063" reads as one; the text columns and the headers wrap instead. */
td.num { white-space: nowrap; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
.note { color: var(--muted); font-size: 0.9rem; margin: 8px 0 0; }
.sources { color: var(--muted); font-size: 0.85rem; margin: 8px 0 0; }
.sources ul { display: inline; list-style: none; margin: 0; padding: 0; }
.sources li { display: inline; }
.sources li + li::before { content: " \\00b7  "; }
code { font: 0.85em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--tint); padding: 1px 4px; border-radius: 4px; }
#sources code { word-break: break-all; }
@media print { nav.contents { display: none; } section { break-inside: avoid; } }
`.trim();
