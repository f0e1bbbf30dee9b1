// Every client-facing read pages at most MAX_PAGE_SIZE rows, whatever page size the caller asks for;
// the continuation token (queryInstances) or last key (listInstanceIds) leads to the rest.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, effectivePageSize } from "../../src/core/limits";
import { InstanceRecord, Status } from "../../src/core/model";
import { MemoryStore, SqliteStore, Store } from "../../src/store";
import { effectivePageSize as storePageSize, trimPageToBytes } from "../../src/store/query";
import { decodeContinuationToken } from "../../src/store/continuation";

const H = "hub";
const COUNT = 2_345;
const HUGE = 1_000_000;

const tmpDirs: string[] = [];
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function inst(i: number): InstanceRecord {
  // Created times repeat in runs of 7 so that pages also break inside equal createdAt values.
  const createdAt = 1_000 + Math.floor(i / 7);
  return {
    instanceId: `inst-${String(i).padStart(5, "0")}`, executionId: `e${i}`, name: "Orch",
    status: i % 3 !== 0 ? Status.ORCHESTRATION_STATUS_COMPLETED : Status.ORCHESTRATION_STATUS_PENDING,
    createdAt, lastUpdatedAt: createdAt, completedAt: i % 3 !== 0 ? createdAt + 1 : undefined,
  };
}

test("effectivePageSize: default for <= 0 or NaN, floors fractions, caps at MAX_PAGE_SIZE", () => {
  expect(MAX_PAGE_SIZE).toBe(1000);
  expect(DEFAULT_PAGE_SIZE).toBe(100);
  for (const [asked, got] of [
    [0, 100], [-1, 100], [-HUGE, 100], [NaN, 100], [0.5, 1], [1, 1], [7.9, 7], [999, 999], [1000, 1000], [1001, 1000], [HUGE, 1000], [Infinity, 1000],
  ]) expect([asked, effectivePageSize(asked)]).toEqual([asked, got]);
  // The stores use the same function, from core.
  expect(storePageSize).toBe(effectivePageSize);
});

const kinds: [string, () => Store][] = [
  ["memory", () => new MemoryStore()],
  ["sqlite", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-page-caps-"));
    tmpDirs.push(dir);
    return new SqliteStore(dir);
  }],
];

describe.each(kinds)("%s store", (_kind, open) => {
  let store: Store;
  const all = Array.from({ length: COUNT }, (_, i) => inst(i));
  beforeAll(() => {
    store = open();
    store.createHub(H);
    store.commit(all.map((instance) => ({ op: "putInstance", hub: H, instance })));
  });
  afterAll(() => store.close());

  test("queryInstances with a huge page size returns MAX_PAGE_SIZE rows per page and reaches every row exactly once", () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const page = store.queryInstances(H, {}, HUGE, token);
      sizes.push(page.instances.length);
      seen.push(...page.instances.map((r) => r.instanceId));
      token = page.continuationToken;
    } while (token);
    expect(sizes).toEqual([1000, 1000, COUNT - 2000]);
    expect(seen).toEqual(all.map((r) => r.instanceId));
  });

  test("queryInstances caps filtered pages too; 0 and negative still mean 100", () => {
    const completed = all.filter((r) => r.status === Status.ORCHESTRATION_STATUS_COMPLETED).map((r) => r.instanceId);
    expect(completed.length).toBeGreaterThan(MAX_PAGE_SIZE);
    const first = store.queryInstances(H, { statuses: [Status.ORCHESTRATION_STATUS_COMPLETED] }, HUGE);
    expect(first.instances.map((r) => r.instanceId)).toEqual(completed.slice(0, 1000));
    expect(first.continuationToken).toBeTruthy();
    const second = store.queryInstances(H, { statuses: [Status.ORCHESTRATION_STATUS_COMPLETED] }, HUGE, first.continuationToken);
    expect(second.instances.map((r) => r.instanceId)).toEqual(completed.slice(1000));
    expect(second.continuationToken).toBeUndefined();
    expect(store.queryInstances(H, {}, 0).instances).toHaveLength(100);
    expect(store.queryInstances(H, {}, -HUGE).instances).toHaveLength(100);
    expect(store.queryInstances(H, {}, 1000).instances).toHaveLength(1000);
  });

  test("listInstanceIds with a huge page size returns MAX_PAGE_SIZE ids per page and reaches every id exactly once", () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let last: string | undefined;
    do {
      const page = store.listInstanceIds(H, {}, HUGE, last);
      sizes.push(page.ids.length);
      seen.push(...page.ids);
      last = page.last;
    } while (last);
    expect(sizes).toEqual([1000, 1000, COUNT - 2000]);
    expect(seen).toEqual(all.map((r) => r.instanceId).sort());
    expect(store.listInstanceIds(H, {}, 0).ids).toHaveLength(100);
    expect(store.listInstanceIds(H, {}, -1).ids).toHaveLength(100);
  });

  test("findInstanceIds (internal, purge by filter) keeps its limit semantics: <= 0 means no limit", () => {
    expect(store.findInstanceIds(H, {}, 0)).toHaveLength(COUNT);
    expect(store.findInstanceIds(H, {}, 500)).toHaveLength(500);
  });
});

test("trimPageToBytes: a page of large payloads stops once over the byte budget, keeps at least one row, and resumes after the last row kept", () => {
  const rec = (i: number, bytes: number): InstanceRecord => ({
    instanceId: `i-${i}`, executionId: "e", name: "n", status: Status.ORCHESTRATION_STATUS_COMPLETED, createdAt: 1000 + i, lastUpdatedAt: 1000 + i,
    input: "x".repeat(bytes),
  });
  const page = { instances: [rec(0, 400), rec(1, 400), rec(2, 400), rec(3, 400)] };
  const cut = trimPageToBytes(page, 1000);
  expect(cut.instances.map((r) => r.instanceId)).toEqual(["i-0", "i-1"]);
  expect(decodeContinuationToken(cut.continuationToken!)).toEqual({ createdAt: 1001, instanceId: "i-1" });
  // One row larger than the budget still comes back alone; a page within it is untouched.
  expect(trimPageToBytes({ instances: [rec(0, 5000), rec(1, 1)] }, 1000).instances.map((r) => r.instanceId)).toEqual(["i-0"]);
  const small = { instances: [rec(0, 10)], continuationToken: "next" };
  expect(trimPageToBytes(small, 1000)).toBe(small);
});
