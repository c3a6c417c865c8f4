// The resource graph as text: DOT for Graphviz, Mermaid for Markdown. Edges point at what a resource needs.
import type { Stack } from './stack.js';

export interface GraphEdge {
  from: string;
  to: string;
}

export function edges(stack: Stack): GraphEdge[] {
  return stack.resources.flatMap((r) =>
    stack.dependencies(r).map((d) => ({ from: r.address, to: d.address })),
  );
}

export function toDot(stack: Stack): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(stack.name)} {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const r of stack.resources) lines.push(`  ${q(r.address)} [label=${q(`${r.path}\n${r.type.noun}`)}];`);
  for (const e of edges(stack)) lines.push(`  ${q(e.from)} -> ${q(e.to)};`);
  lines.push('}');
  return lines.join('\n');
}

export function toMermaid(stack: Stack): string {
  const ids = new Map(stack.resources.map((r, i) => [r.address, `r${i}`]));
  const label = (s: string) => s.replaceAll('"', '#quot;');
  const lines = ['graph LR'];
  for (const r of stack.resources)
    lines.push(`  ${ids.get(r.address)}["${label(`${r.path}<br/><small>${r.type.noun}</small>`)}"]`);
  for (const e of edges(stack)) lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  return lines.join('\n');
}
