// Walks a dependency graph: a node starts as soon as its own dependencies are done, under a
// concurrency cap kept as a separate semaphore (as Terraform's dag walker does).
import pLimit from 'p-limit';

export interface WalkNode {
  id: string;
  deps: readonly string[];
  run: () => Promise<void>;
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

export async function walk(
  nodes: readonly WalkNode[],
  options: WalkOptions,
): Promise<Map<string, NodeOutcome>> {
  const limit = pLimit(Math.max(1, options.concurrency));
  const byId = new Map(nodes.map((n) => [n.id, n]));
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
        if (left === 0) start(next);
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
    if (running > 0 || outcomes.size === nodes.length) return;
    for (const n of nodes) {
      if (!outcomes.has(n.id))
        conclude(n.id, { state: 'failed', error: new Error(`${n.id} waits on a dependency cycle`) });
    }
  };
  const started = new Set<string>();
  let running = 0;
  const start = (id: string) => {
    started.add(id);
    running++;
    void limit(async () => {
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
      unstick();
    });
  };

  if (nodes.length === 0) return outcomes;
  for (const n of nodes) if (waitingOn.get(n.id) === 0) start(n.id);
  unstick();
  await finished;
  return outcomes;
}
