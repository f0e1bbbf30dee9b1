// End-to-end: QueryInstances, ListInstanceIds and QueryEntities return at most 1000 rows per page
// (MAX_PAGE_SIZE) however large a page the client asks for, with a continuation token / last key
// that leads to the rest. No worker: instances are scheduled to start years from now and entities
// only have a far-future signal queued (transient), so creating them is cheap.
import { MAX_PAGE_SIZE } from "../../src/core/limits";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { inParallel } from "../helpers/poll";
import { RawClient } from "../helpers/raw";

/* eslint-disable @typescript-eslint/no-explicit-any */

const INSTANCES = 1_200;
const ENTITIES = 1_100;
const HUGE = 1_000_000;
const FAR_FUTURE = { seconds: Math.floor(Date.now() / 1000) + 10 * 365 * 86_400, nanos: 0 };

let dts: DtsProcess;
let raw: RawClient;

/** Runs `fn` over 0..count-1 with at most `width` calls in flight. */
const pad = (i: number) => String(i).padStart(5, "0");

beforeAll(async () => {
  dts = await startDts();
  raw = new RawClient(dts.address);
  await inParallel(INSTANCES, 100, (i) => raw.call("StartInstance", { instanceId: `cap-${pad(i)}`, name: "Never", scheduledStartTimestamp: FAR_FUTURE }));
  await inParallel(ENTITIES, 100, (i) => raw.call("SignalEntity", { instanceId: `@capped@${pad(i)}`, requestId: `r${i}`, name: "add", scheduledTime: FAR_FUTURE }));
}, 120_000); // an upper bound for a loaded machine; a few seconds when quiet

afterAll(async () => {
  raw?.close();
  await dts?.stop();
});

test("MAX_PAGE_SIZE is 1000", () => expect(MAX_PAGE_SIZE).toBe(1000));

test("QueryInstances with maxInstanceCount 1,000,000 returns 1000 and a continuation token; the next page the rest", async () => {
  const first = await raw.call("QueryInstances", { query: { maxInstanceCount: HUGE, instanceIdPrefix: { value: "cap-" } } });
  expect(first.orchestrationState).toHaveLength(1000);
  expect(first.continuationToken?.value).toBeTruthy();
  const second = await raw.call("QueryInstances", { query: { maxInstanceCount: HUGE, instanceIdPrefix: { value: "cap-" }, continuationToken: first.continuationToken } });
  expect(second.orchestrationState).toHaveLength(INSTANCES - 1000);
  expect(second.continuationToken?.value ?? "").toBe("");
  const ids = [...first.orchestrationState, ...second.orchestrationState].map((s: any) => s.instanceId).sort();
  expect(ids).toEqual(Array.from({ length: INSTANCES }, (_, i) => `cap-${pad(i)}`));
  // Not asking for a size still means 100.
  expect((await raw.call("QueryInstances", { query: {} })).orchestrationState).toHaveLength(100);
});

test("ListInstanceIds with pageSize 1,000,000 returns 1000 ids and a last key; the next page the rest", async () => {
  const first = await raw.call("ListInstanceIds", { pageSize: HUGE });
  expect(first.instanceIds).toHaveLength(1000);
  expect(first.lastInstanceKey?.value).toBe(first.instanceIds[999]);
  const second = await raw.call("ListInstanceIds", { pageSize: HUGE, lastInstanceKey: first.lastInstanceKey });
  expect(second.lastInstanceKey?.value ?? "").toBe("");
  // Entities never show up among instance ids.
  expect([...first.instanceIds, ...second.instanceIds]).toEqual(Array.from({ length: INSTANCES }, (_, i) => `cap-${pad(i)}`));
  expect((await raw.call("ListInstanceIds", {})).instanceIds).toHaveLength(100);
});

test("QueryEntities with pageSize 1,000,000 returns 1000 entities and a continuation token; the next page the rest", async () => {
  const query = { pageSize: { value: HUGE }, includeTransient: true, instanceIdStartsWith: { value: "@capped@" } };
  const first = await raw.call("QueryEntities", { query });
  expect(first.entities).toHaveLength(1000);
  expect(first.continuationToken?.value).toBeTruthy();
  const second = await raw.call("QueryEntities", { query: { ...query, continuationToken: first.continuationToken } });
  expect(second.entities).toHaveLength(ENTITIES - 1000);
  expect(second.continuationToken?.value ?? "").toBe("");
  const ids = [...first.entities, ...second.entities].map((e: any) => e.instanceId);
  expect(ids).toEqual(Array.from({ length: ENTITIES }, (_, i) => `@capped@${pad(i)}`));
  expect((await raw.call("QueryEntities", { query: { includeTransient: true } })).entities).toHaveLength(100);
});
