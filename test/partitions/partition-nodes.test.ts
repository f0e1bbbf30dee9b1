// Two nodes on one PostgreSQL database, each running half of a hub's partitions (PartitionedHub's
// own/disown, what the cluster's coordinator drives): a parent in one node's partition starts a
// child in the other's, and the child's result comes back, each message through the database and
// woken by NOTIFY. A call for an instance of a partition the node does not own is UNAVAILABLE; a
// partition handed over (disowned by one node, owned by the other) goes on where it was.
import { pb } from "../../src/proto";
import { partitionOf } from "../../src/core/partition";
import { GroupCommitter } from "../../src/scheduler/group-commit";
import { DEFAULT_ENGINE_OPTIONS } from "../../src/scheduler/options";
import { PartitionedHub } from "../../src/scheduler/partitioned-hub";
import { WorkerConnection } from "../../src/scheduler/worker";
import { PostgresStore } from "../../src/store/postgres-store";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

const P = 4;
const HUB = "nodes";
const COMPLETED = pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED;

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());

interface Node {
  hub: PartitionedHub;
  items: pb.IWorkItem[];
  close(): Promise<void>;
}

/** A node: its own connections, committer and LISTEN, running partitions `parts` of the hub. */
async function node(url: string, parts: number[]): Promise<Node> {
  const store = await PostgresStore.open(url);
  const committer = new GroupCommitter(store, () => {});
  const hub = new PartitionedHub(HUB, P, store, committer, DEFAULT_ENGINE_OPTIONS);
  for (const part of parts) await hub.own(part);
  const stop = await store.onInbox((name, part) => name === HUB && hub.inboxWritten(part));
  const items: pb.IWorkItem[] = [];
  hub.connectWorker(new WorkerConnection("w", { send: (i) => items.push(i) > 0, end: () => {} }, { orchestrations: 10, activities: 10, entities: 10 }));
  return {
    hub, items,
    close: async () => {
      await committer.flush();
      hub.close("test over");
      await stop();
      await store.close();
    },
  };
}

function idIn(part: number, prefix: string): string {
  for (let n = 0; ; n++) if (partitionOf(`${prefix}-${n}`, P) === part) return `${prefix}-${n}`;
}

async function take(n: Node, instanceId: string): Promise<pb.IWorkItem> {
  await pollUntil(async () => n.items.some((i) => i.orchestratorRequest?.instanceId === instanceId), Boolean, `a work item for ${instanceId}`);
  const at = n.items.findIndex((i) => i.orchestratorRequest?.instanceId === instanceId);
  return n.items.splice(at, 1)[0];
}

test("a parent on one node, its child on another: the start and the result cross through the database", async () => {
  const url = await postgres.createDatabase("nodes");
  const setup = await PostgresStore.open(url);
  await setup.createHub(HUB, P);
  await setup.close();
  const a = await node(url, [0, 1]);
  const b = await node(url, [2, 3]);
  try {
    const parent = idIn(0, "parent");
    const child = idIn(3, "child");
    await a.hub.clients.startInstance({ instanceId: parent, name: "Parent" });
    expect(() => b.hub.clients.startInstance({ instanceId: parent, name: "Parent" })).toThrow(`Instance '${parent}' is in partition 0 of task hub '${HUB}', which this node does not own`);

    let item = await take(a, parent);
    await a.hub.completions.orchestration({ instanceId: parent, completionToken: item.completionToken, actions: [{ id: 0, createSubOrchestration: { instanceId: child, name: "Child", input: { value: "7" } } }] });
    // Node B creates the child from its inbox and dispatches it.
    item = await take(b, child);
    expect(item.orchestratorRequest?.newEvents?.find((e) => e.executionStarted)?.executionStarted?.parentInstance?.orchestrationInstance?.instanceId).toBe(parent);
    await b.hub.completions.orchestration({ instanceId: child, completionToken: item.completionToken, actions: [{ id: 0, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: "49" } } }] });
    // Node A gets the result from its inbox.
    item = await take(a, parent);
    expect(item.orchestratorRequest?.newEvents?.map((e) => e.subOrchestrationInstanceCompleted?.result?.value).filter(Boolean)).toEqual(["49"]);

    // Partition 0 moves from A to B: B loads it from the database and takes the parent's completion.
    a.hub.disown(0);
    expect(() => a.hub.completions.orchestration({ instanceId: parent, completionToken: item.completionToken, actions: [] })).toThrow(/partition 0 .* which this node does not own/);
    await b.hub.own(0);
    expect(b.hub.ownedParts()).toEqual([0, 2, 3]);
    item = await take(b, parent);
    await b.hub.completions.orchestration({ instanceId: parent, completionToken: item.completionToken, actions: [{ id: 1, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: "\"done\"" } } }] });
    const done = await pollUntil(() => b.hub.reads.getInstance(parent), (r) => r?.status === COMPLETED, "the parent to complete");
    expect(done?.output).toBe("\"done\"");
  } finally {
    await a.close();
    await b.close();
  }
});
