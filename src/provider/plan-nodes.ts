// The task tree of the replay re-enactment (action-plan.ts): a leaf per task, compound nodes for
// Task.all / Task.any, retries and durable HTTP polling; a finished node tells its parent.

export interface Node {
  done: boolean;
  failed: boolean;
  parent?: Compound;
}
export interface Leaf extends Node {
  kind: "leaf";
  /** The task id (-1 until it is given one) or, for external events, the event name. */
  key: number | string;
  /** Schedules the task's work once it has its id. */
  begin?: (id: number) => void;
  /** A completed task's result JSON (durable HTTP reads the response from it). */
  result?: string;
}
export interface Compound extends Node {
  kind: "all" | "any" | "retry" | "http";
  children: Node[];
  onChild(child: Node): void;
}

export function leaf(key: number | string, parent: Compound | undefined, begin?: (id: number) => void): Leaf {
  return { kind: "leaf", key, done: false, failed: false, parent, begin };
}

export function allNode(parent?: Compound): Compound {
  // A count, not a scan of the children per completion: a fan-out of 10,000 would replay quadratically.
  let succeeded = 0;
  const node: Compound = {
    kind: "all", done: false, failed: false, parent, children: [],
    onChild: (child) => {
      if (node.done) return;
      if (child.failed) finishNode(node, false);
      else if (++succeeded === node.children.length) finishNode(node, true);
    },
  };
  return node;
}

export function anyNode(parent?: Compound): Compound {
  const node: Compound = {
    kind: "any", done: false, failed: false, parent, children: [],
    onChild: () => {
      if (!node.done) finishNode(node, true);
    },
  };
  return node;
}

/** Marks a task done and lets its parent react (a compound task may complete, a retry may schedule). */
export function finishNode(node: Node, ok: boolean): void {
  // Once only, so a parent hears from each child at most once (allNode counts them).
  if (node.done) return;
  node.done = true;
  node.failed = !ok;
  node.parent?.onChild(node);
}
