import dagre, { type Edge } from '@dagrejs/dagre';
import { escapeHtml } from '../report/escape-html.ts';
import type { UiStage } from './stage-states.ts';

const NODE_W = 190;
const NODE_H = 46;

/**
 * The stage graph as SVG, laid out by dagre on the server so the first paint already shows it.
 * Each node carries its state as a class and `data-stage`, which the page's script updates.
 */
export function dagSvg(stages: UiStage[]): string {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of stages) g.setNode(s.name, { width: NODE_W, height: NODE_H });
  const names = new Set(stages.map((s) => s.name));
  for (const s of stages) for (const u of s.upstream) if (names.has(u)) g.setEdge(u, s.name);
  dagre.layout(g);
  const { width = 0, height = 0 } = g.graph();
  const edges = g.edges().map((e: Edge) => {
    const pts = g.edge(e).points ?? [];
    return `<polyline class="edge" points="${pts.map((p: { x: number; y: number }) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`;
  });
  const nodes = stages.map((s) => {
    const n = g.node(s.name);
    const x = n.x - NODE_W / 2;
    const y = n.y - NODE_H / 2;
    const href = `/stage/${encodeURIComponent(s.name)}`;
    return `<a href="${escapeHtml(href)}" data-stage="${escapeHtml(s.name)}" class="node state-${s.state.replace(' ', '-')}">
<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${NODE_W}" height="${NODE_H}" rx="6"/>
<text x="${(x + 8).toFixed(1)}" y="${(y + 18).toFixed(1)}" class="name">${escapeHtml(s.name)}</text>
<text x="${(x + 8).toFixed(1)}" y="${(y + 36).toFixed(1)}" class="detail">${escapeHtml(detail(s))}</text></a>`;
  });
  return `<svg class="dag" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" role="img" aria-label="stage graph">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z"/></marker></defs>
${edges.join('\n')}
${nodes.join('\n')}
</svg>`;
}

/** The second line of a node: its state and, while running, its progress. */
export function detail(s: UiStage): string {
  const text = s.state === 'running' && s.progress !== null ? `running ${s.progress}` : s.state;
  return text.length > 30 ? `${text.slice(0, 29)}…` : text;
}
