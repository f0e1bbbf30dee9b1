// The instances a PurgeInstances filter selects: the statuses it names, or every finished one.
import { pb } from "../proto";
import { fromTimestamp } from "../core/events";
import { Status } from "../core/model";
import { InstanceFilter } from "../store/store";

const FINISHED = [Status.ORCHESTRATION_STATUS_COMPLETED, Status.ORCHESTRATION_STATUS_FAILED, Status.ORCHESTRATION_STATUS_TERMINATED, Status.ORCHESTRATION_STATUS_CANCELED];

export function purgeFilter(f: pb.IPurgeInstanceFilter): InstanceFilter {
  return {
    statuses: f.runtimeStatus && f.runtimeStatus.length > 0 ? [...f.runtimeStatus] : FINISHED,
    createdFrom: fromTimestamp(f.createdTimeFrom), createdTo: fromTimestamp(f.createdTimeTo),
  };
}
