// Walks a dependency graph: a node starts as soon as its own dependencies are done, under a
// concurrency cap kept as a separate semaphore (as Terraform's dag walker does). When more nodes are
// ready than the cap lets run, the one heading the longest remaining path (by expected duration) goes
// first: a slow chain started late delays the whole walk, a short branch started late usually does not.

export interface WalkNode {
  id: string;
  deps: readonly string[];
  run: () => Promise<void>;
  /** Expected duration in seconds (what AWS typically takes); 1 when not known. */
  weight?: number;
}

export type NodeOutcome =
  | { state: 'done' }
  | { state: 'failed'; error: unknown }
  | { state: 'skipped'; because: string }
  | { state: 'not-started' };

export interface WalkOptions {
  concurrency: number;
  /** Once aborted, nothing new starts; what is running finishes. */
  signal?: AbortSignal;
  onSkip?: (id: string, because: string) => void;
}

/** Each node's longest path to the end of the walk, itself included, in expected seconds. */
export function remainingPaths(nodes: readonly WalkNode[]): Map<string, number> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const dependents = new Map<string, string[]>();
  for (const n of nodes)
    for (const d of n.deps) if (byId.has(d)) dependents.set(d, [...(dependents.get(d) ?? []), n.id]);
  const length = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = length.get(id);
    if (known !== undefined) return known;
    // A cycle: the walk reports it; here it only must not recurse forever.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const after = Math.max(0, ...(dependents.get(id) ?? []).map(visit));
    length.set(id, (byId.get(id)!.weight ?? 1) + after);
    return length.get(id)!;
  };
  for (const n of nodes) visit(n.id);
  return length;
}

export async function walk(
  nodes: readonly WalkNode[],
  options: WalkOptions,
): Promise<Map<string, NodeOutcome>> {
  const cap = Math.max(1, options.concurrency);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const order = new Map(nodes.map((n, i) => [n.id, i]));
  const priority = remainingPaths(nodes);
  const outcomes = new Map<string, NodeOutcome>();
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    const deps = n.deps.filter((d) => byId.has(d));
    waitingOn.set(n.id, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), n.id]);
  }

  let settle!: () => void;
  const finished = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const conclude = (id: string, outcome: NodeOutcome) => {
    if (outcomes.has(id)) return;
    outcomes.set(id, outcome);
    if (started.has(id)) running--;
    for (const next of dependents.get(id) ?? []) {
      if (outcome.state === 'done') {
        const left = (waitingOn.get(next) ?? 1) - 1;
        waitingOn.set(next, left);
        if (left === 0) ready.push(next);
      } else if (outcome.state === 'not-started') {
        conclude(next, { state: 'not-started' });
      } else {
        const because = outcome.state === 'skipped' ? outcome.because : id;
        options.onSkip?.(next, because);
        conclude(next, { state: 'skipped', because });
      }
    }
    if (outcomes.size === nodes.length) settle();
  };
  // Nothing runs and nothing can start: what is left waits on a cycle.
  const unstick = () => {
    if (running > 0 || ready.length > 0 || outcomes.size === nodes.length) return;
    for (const n of nodes) {
      if (!outcomes.has(n.id))
        conclude(n.id, { state: 'failed', error: new Error(`${n.id} waits on a dependency cycle`) });
    }
  };
  const started = new Set<string>();
  /** Ready to start, waiting for a free slot. */
  const ready: string[] = [];
  let running = 0;
  /** Longest remaining path first; plan order between equals. */
  const next = () => {
    let best = 0;
    for (let i = 1; i < ready.length; i++) {
      const [a, b] = [ready[i]!, ready[best]!];
      const [pa, pb] = [priority.get(a)!, priority.get(b)!];
      if (pa > pb || (pa === pb && order.get(a)! < order.get(b)!)) best = i;
    }
    return ready.splice(best, 1)[0]!;
  };
  const fill = () => {
    while (running < cap && ready.length > 0) {
      const id = next();
      if (outcomes.has(id)) continue;
      started.add(id);
      running++;
      void runNode(id);
    }
    unstick();
  };
  const runNode = async (id: string) => {
    // On a later tick, as a semaphore would: walk() itself never runs a node's work.
    await Promise.resolve();
    if (options.signal?.aborted) {
      conclude(id, { state: 'not-started' });
    } else {
      try {
        await byId.get(id)!.run();
        conclude(id, { state: 'done' });
      } catch (error) {
        conclude(id, { state: 'failed', error });
      }
    }
    fill();
  };

  if (nodes.length === 0) return outcomes;
  for (const n of nodes) if (waitingOn.get(n.id) === 0) ready.push(n.id);
  fill();
  await finished;
  return outcomes;
}
