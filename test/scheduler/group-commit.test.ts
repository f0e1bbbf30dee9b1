// The group committer's contract on failure: a failed group refuses its changes and every change
// queued behind it (they were built on top of it), tells the owner which hubs to rebuild before any
// refusal is delivered, and writes nothing of them later. A fatal store error refuses everything after.
import { GroupCommitter, CommitFailure } from "../../src/scheduler/group-commit";
import { MemoryStore, StoreFatalError, StoreOp } from "../../src/store";
import { FaultyStore } from "../helpers/faulty-store";

const put = (hub: string, id: string): StoreOp[] => [{ op: "putInstance", hub, instance: { instanceId: id, executionId: "e", name: "n", status: 0, createdAt: 1, lastUpdatedAt: 1 } }];

function setup() {
  const memory = new MemoryStore();
  memory.createHub("a");
  memory.createHub("b");
  // Commits off the caller's turn, as the SQLite writer thread does, so a change can queue behind a group in flight.
  const store = new FaultyStore(Object.assign(Object.create(memory) as MemoryStore, { commitAsync: async (ops: StoreOp[]) => memory.commit(ops) }));
  const failures: CommitFailure[] = [];
  const events: string[] = [];
  const committer = new GroupCommitter(store, (f) => {
    failures.push(f);
    events.push("reload");
  });
  const commit = (ops: StoreOp[], name: string) => new Promise<string>((resolve) => committer.commit(ops, () => {
    events.push(`done ${name}`);
    resolve("done");
  }, (err) => {
    events.push(`refused ${name}`);
    resolve(`refused: ${err.message}`);
  }));
  return { memory, store, committer, failures, events, commit };
}

test("a failed group refuses its changes and those queued behind it; the owner reloads first; nothing refused is written later", async () => {
  const { memory, store, committer, failures, events, commit } = setup();
  store.failNext = 1;
  store.failAfterMs = 20;
  const first = commit(put("a", "x"), "x");
  await new Promise((resolve) => setImmediate(resolve)); // x's group is in flight now
  const second = commit(put("b", "y"), "y");
  expect(await first).toMatch(/refused: injected fault/);
  expect(await second).toMatch(/refused: injected fault/);
  expect(failures).toHaveLength(1);
  // y never reached the store: it was refused from the queue, not as part of x's group.
  expect({ groups: committer.stats.commits, batches: committer.stats.batches, refused: failures[0].refused }).toEqual({ groups: 1, batches: 1, refused: 2 });
  expect([...failures[0].hubs].sort()).toEqual(["a", "b"]);
  expect(failures[0].fatal).toBe(false);
  expect(events.slice(0, 3)).toEqual(["reload", "refused x", "refused y"]);
  await committer.flush();
  expect(memory.getInstance("a", "x")).toBeUndefined();
  expect(memory.getInstance("b", "y")).toBeUndefined();
  // The committer goes on: the next change is written.
  expect(await commit(put("a", "z"), "z")).toBe("done");
  expect(memory.getInstance("a", "z")?.instanceId).toBe("z");
  expect(committer.stats.failures).toBe(1);
});

test("a fatal store error refuses everything from then on", async () => {
  const memory = new MemoryStore();
  memory.createHub("a");
  let fatal: CommitFailure | undefined;
  const committer = new GroupCommitter({ ...memory, kind: "memory", commit: () => { throw new StoreFatalError("the writer is gone"); } } as unknown as MemoryStore, (f) => (fatal = f));
  const refusal = (ops: StoreOp[]) => new Promise<string>((resolve) => committer.commit(ops, () => resolve("done"), (e) => resolve(e.message)));
  expect(await refusal(put("a", "x"))).toBe("the writer is gone");
  expect(fatal?.fatal).toBe(true);
  expect(await refusal(put("a", "y"))).toBe("the writer is gone");
});
