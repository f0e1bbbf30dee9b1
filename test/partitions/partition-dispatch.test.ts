// One worker stream over the partitions of a hub: its in-flight limit counts work items of every
// partition together, and room freed in one partition goes to work waiting in the others.
import { pb } from "../../src/proto";
import { partitionOf } from "../../src/core/partition";
import { Scheduler } from "../../src/scheduler/scheduler";
import { WorkerConnection } from "../../src/scheduler/worker";
import { MemoryStore } from "../../src/store";
import { pollUntil } from "../helpers/poll";

const COMPLETED = pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED;

test("a stream's in-flight limit holds across partitions, and freed room reaches every partition in turn", async () => {
  const scheduler = new Scheduler(new MemoryStore(), { partitions: 4 });
  try {
    const hub = scheduler.hub("default");
    const ids = Array.from({ length: 12 }, (_, i) => `limit-${i}`);
    expect(new Set(ids.map((id) => partitionOf(id, 4))).size).toBe(4);
    for (const id of ids) await hub.clients.startInstance({ instanceId: id, name: "N" });
    const items: pb.IWorkItem[] = [];
    const stream = new WorkerConnection("w", { send: (i) => items.push(i) > 0, end: () => {} }, { orchestrations: 2, activities: 1, entities: 1 });
    hub.connectWorker(stream);
    expect(items.filter((i) => i.orchestratorRequest)).toHaveLength(2);
    expect(stream.inFlight.orchestrations).toBe(2);

    // Each completion frees one slot: exactly one more item follows, whatever partition it is in.
    const done: string[] = [];
    while (done.length < ids.length) {
      const item = items.shift()!;
      const id = item.orchestratorRequest!.instanceId!;
      await hub.completions.orchestration({ instanceId: id, completionToken: item.completionToken, actions: [{ id: 0, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: "1" } } }] });
      done.push(id);
      await pollUntil(async () => items.length, (n) => n === Math.min(2, ids.length - done.length), "the freed slot to be used");
      expect(stream.inFlight.orchestrations).toBe(Math.min(2, ids.length - done.length));
    }
    expect([...done].sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await hub.reads.getInstance(id))?.status).toBe(COMPLETED);
  } finally {
    await scheduler.close();
  }
});
