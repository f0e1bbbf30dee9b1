// Unit tests of entity logic: ids, which queued operations run next under locks, batch results.
import { applyEntityBatch, nextEntityStep, normalizeEntityId, pageEntities } from "../../src/core/entities";
import { event, str } from "../../src/core/events";
import { MAX_PAGE_SIZE } from "../../src/core/limits";
import { EntityData, HistoryEvent, InstanceRecord, MessageRecord, Status } from "../../src/core/model";

const NOW = 1_700_000_000_000;
let seq = 0;
const msg = (fields: Omit<HistoryEvent, "eventId" | "timestamp">, visibleAt = NOW): MessageRecord =>
  ({ seq: ++seq, instanceId: "@acct@a", visibleAt, event: event(NOW, fields) });
const signal = (op: string) => msg({ entityOperationSignaled: { requestId: `r${seq}`, operation: op } });
const call = (op: string, parent: string) => msg({ entityOperationCalled: { requestId: `c${seq}`, operation: op, parentInstanceId: str(parent), parentExecutionId: str("e1") } });
const lock = (parent: string, lockSet = ["@acct@a", "@acct@b"], position = 0) =>
  msg({ entityLockRequested: { criticalSectionId: `cs-${parent}`, lockSet, position, parentInstanceId: str(parent) } });
const unlock = (parent: string) => msg({ entityUnlockSent: { criticalSectionId: `cs-${parent}`, parentInstanceId: str(parent), targetInstanceId: str("@acct@a") } });
const live = () => true;
const step = (data: EntityData, inbox: MessageRecord[], max = 10, isLive = live) => nextEntityStep("@acct@a", data, inbox, NOW, max, isLive);

describe("entity ids", () => {
  test("lowercases the name and keeps the key", () => expect(normalizeEntityId("@Counter@Key1")).toBe("@counter@Key1"));
  test.each([["counter@k"], ["@counter"], ["@@k"], [""]])("rejects %p", (id) => expect(() => normalizeEntityId(id)).toThrow(/not an entity id/));
});

describe("nextEntityStep", () => {
  test("batches visible operations in arrival order up to the batch size", () => {
    const inbox = [signal("a"), signal("b"), msg({ entityOperationSignaled: { operation: "later" } }, NOW + 1000), signal("c")];
    const s = step({}, inbox, 2);
    expect(s?.kind).toBe("batch");
    expect(s?.kind === "batch" && s.operations.map((m) => m.event.entityOperationSignaled?.operation)).toEqual(["a", "b"]);
  });

  test("a lock request waits until the operations before it have run", () => {
    const inbox = [signal("a"), lock("o1")];
    const s = step({}, inbox);
    expect(s?.kind === "batch" && s.operations).toHaveLength(1);
  });

  test("granting the first lock of a set forwards the request to the next entity", () => {
    const s = step({}, [lock("o1")]);
    expect(s?.kind).toBe("control");
    if (s?.kind !== "control") return;
    expect(s.entity).toEqual({ lockedBy: "o1", criticalSectionId: "cs-o1" });
    expect(s.messages[0].instanceId).toBe("@acct@b");
    expect(s.messages[0].event.entityLockRequested?.position).toBe(1);
  });

  test("the last lock of a set tells the orchestration it holds them all", () => {
    const s = step({}, [lock("o1", ["@acct@a"], 0)]);
    expect(s?.kind === "control" && s.messages[0]).toMatchObject({ instanceId: "o1" });
    expect(s?.kind === "control" && s.messages[0].event.entityLockGranted?.criticalSectionId).toBe("cs-o1");
  });

  test("while locked only the holder's calls run; others wait in order", () => {
    const locked: EntityData = { lockedBy: "o1", criticalSectionId: "cs-o1" };
    const s = step(locked, [signal("other"), call("get", "o2"), call("get", "o1"), lock("o3")]);
    expect(s?.kind === "batch" && s.operations.map((m) => m.event.entityOperationCalled?.parentInstanceId?.value)).toEqual(["o1"]);
    expect(step(locked, [signal("other"), lock("o3")])).toBeUndefined();
  });

  test("the holder's unlock releases; a stranger's unlock changes nothing", () => {
    const locked: EntityData = { lockedBy: "o1", criticalSectionId: "cs-o1" };
    const s = step(locked, [unlock("o1")]);
    expect(s?.kind === "control" && s.entity).toEqual({ lockedBy: undefined, criticalSectionId: undefined });
    const t = step(locked, [unlock("o2")]);
    expect(t?.kind === "control" && t.entity).toEqual(locked);
  });

  test("a lock request from a finished orchestration is dropped without locking", () => {
    const s = step({}, [lock("gone")], 10, () => false);
    expect(s?.kind === "control" && s.entity).toEqual({});
    expect(s?.kind === "control" && s.messages).toEqual([]);
  });
});

describe("applyEntityBatch", () => {
  let n = 0;
  const ids = () => `r${++n}`;
  test("answers calls, not signals, and keeps the new state", () => {
    const ops = [signal("add"), call("get", "o1")];
    const out = applyEntityBatch({}, ops, {
      entityState: str("5"),
      results: [{ success: { result: str("1") } }, { success: { result: str("5") } }],
    }, NOW, ids);
    expect(out.entity.state).toBe("5");
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]).toMatchObject({ instanceId: "o1", executionId: "e1" });
    expect(out.messages[0].event.entityOperationCompleted?.output?.value).toBe("5");
  });

  test("a failed call comes back as EntityOperationFailed; a missing result fails the call", () => {
    const ops = [call("boom", "o1"), call("lost", "o2")];
    const out = applyEntityBatch({}, ops, { results: [{ failure: { failureDetails: { errorType: "Error", errorMessage: "boom" } } }] }, NOW, ids);
    expect(out.messages[0].event.entityOperationFailed?.failureDetails?.errorMessage).toBe("boom");
    expect(out.messages[1].event.entityOperationFailed?.failureDetails?.errorType).toBe("EntityBatchIncomplete");
    expect(out.entity.state).toBeUndefined();
  });

  test("signals to other entities and orchestration starts come out as actions", () => {
    const out = applyEntityBatch({ state: "1" }, [signal("x")], {
      entityState: str("1"), results: [{ success: {} }],
      actions: [
        { id: 0, sendSignal: { instanceId: "@Other@k", name: "ping", scheduledTime: { seconds: NOW / 1000 + 60 } } },
        { id: 1, startNewOrchestration: { instanceId: "o9", name: "Orch" } },
      ],
    }, NOW, ids);
    expect(out.messages[0]).toMatchObject({ instanceId: "@other@k", visibleAt: NOW + 60_000 });
    expect(out.starts).toEqual([{ instanceId: "o9", name: "Orch" }]);
  });
});

describe("pageEntities", () => {
  const entity = (id: string, lastUpdatedAt: number, data: EntityData) => ({
    rec: { instanceId: id, executionId: "", name: "e", status: Status.ORCHESTRATION_STATUS_RUNNING, createdAt: 0, lastUpdatedAt, entity: data } as InstanceRecord,
    data,
  });
  const all = [entity("@c@1", 30, { state: "3" }), entity("@a@1", 10, { state: "1" }), entity("@b@1", 20, { lockedBy: "o" }), entity("@a@2", 40, { state: "2" })];
  const ids = (r: { entities: { rec: InstanceRecord }[] }) => r.entities.map((e) => e.rec.instanceId);

  test("id order, transient ones only when asked, pages continue after the last id", () => {
    const first = pageEntities(all, { includeTransient: false, pageSize: 2 });
    expect(ids(first)).toEqual(["@a@1", "@a@2"]);
    expect(first.last).toBe("@a@2");
    const second = pageEntities(all, { includeTransient: false, pageSize: 2, after: first.last });
    expect(ids(second)).toEqual(["@c@1"]);
    expect(second.last).toBeUndefined();
    expect(ids(pageEntities(all, { includeTransient: true, pageSize: 0 }))).toEqual(["@a@1", "@a@2", "@b@1", "@c@1"]);
  });

  test("prefix and last-modified bounds", () => {
    expect(ids(pageEntities(all, { includeTransient: true, pageSize: 10, prefix: "@a@" }))).toEqual(["@a@1", "@a@2"]);
    expect(ids(pageEntities(all, { includeTransient: true, pageSize: 10, from: 20, to: 30 }))).toEqual(["@b@1", "@c@1"]);
  });

  test("a page holds at most MAX_PAGE_SIZE entities, whatever size is asked; paging reaches each exactly once", () => {
    const many = Array.from({ length: 2_345 }, (_, i) => entity(`@n@${String(2_344 - i).padStart(5, "0")}`, i, { state: `${i}` }));
    const want = many.map((e) => e.rec.instanceId).sort();
    const seen: string[] = [];
    const sizes: number[] = [];
    let after: string | undefined;
    do {
      const page = pageEntities(many, { includeTransient: false, pageSize: 1_000_000, after });
      sizes.push(page.entities.length);
      seen.push(...ids(page));
      after = page.last;
    } while (after);
    expect(MAX_PAGE_SIZE).toBe(1000);
    expect(sizes).toEqual([1000, 1000, 345]);
    expect(seen).toEqual(want);
    expect(pageEntities(many, { includeTransient: false, pageSize: Infinity }).entities).toHaveLength(1000);
    expect(pageEntities(many, { includeTransient: false, pageSize: 1000 }).entities).toHaveLength(1000);
    expect(pageEntities(many, { includeTransient: false, pageSize: 0 }).entities).toHaveLength(100);
    expect(pageEntities(many, { includeTransient: false, pageSize: -5 }).entities).toHaveLength(100);
  });
});
