import type { PipelineGraph } from '../graph/build.ts';

export type DagFormat = 'ascii' | 'mermaid' | 'dot' | 'json';

function edges(graph: PipelineGraph): Array<[string, string]> {
  return graph.order.flatMap((n) => (graph.stages.get(n)?.upstream ?? []).map((u): [string, string] => [u, n]));
}

/** The stage graph as text; `ascii` lists each stage in run order with what it needs. */
export function renderDag(graph: PipelineGraph, format: DagFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify({
        stages: graph.order.map((n) => {
          const node = graph.stages.get(n)!;
          return {
            name: n,
            group: node.spec.group,
            kind: node.spec.kind,
            // The command as rendered, lines joined as dvc.lock shows a list `cmd`.
            ...(node.spec.kind === 'cmd' ? { cmd: node.spec.cmd.join('\n') } : {}),
            upstream: node.upstream,
            files: node.deps.flatMap((d) => (d.kind === 'file' ? [d.path] : [])),
          };
        }),
        edges: edges(graph).map(([from, to]) => ({ from, to })),
      });
    case 'mermaid': {
      const id = new Map(graph.order.map((n, i) => [n, `s${i}`]));
      const lines = ['flowchart TD'];
      for (const n of graph.order) lines.push(`  ${id.get(n)}["${n.replace(/"/g, '#quot;')}"]`);
      for (const [a, b] of edges(graph)) lines.push(`  ${id.get(a)} --> ${id.get(b)}`);
      return lines.join('\n');
    }
    case 'dot': {
      const q = (s: string) => JSON.stringify(s);
      const lines = ['digraph pipeline {', '  rankdir=LR;'];
      for (const n of graph.order) lines.push(`  ${q(n)};`);
      for (const [a, b] of edges(graph)) lines.push(`  ${q(a)} -> ${q(b)};`);
      lines.push('}');
      return lines.join('\n');
    }
    case 'ascii': {
      const lines: string[] = [];
      for (const n of graph.order) {
        const node = graph.stages.get(n)!;
        const files = node.deps.flatMap((d) => (d.kind === 'file' ? [d.path] : []));
        const from = [...node.upstream, ...files.map((f) => `file ${f}`)];
        lines.push(`${n}${from.length > 0 ? `  <-  ${from.join(', ')}` : ''}`);
      }
      return lines.join('\n');
    }
  }
}
