// The KEDA external scaler's messages (generated from ../externalscaler.proto by ../build-codec.js)
// and its gRPC service definition.
import "../../src/proto/numbers"; // int64 as plain numbers, before the codec loads
import { serviceDefinition } from "../../src/proto/service-definition";
import * as codec from "../gen/codec";

export import es = codec.externalscaler;

export const EXTERNAL_SCALER_SERVICE = "externalscaler.ExternalScaler";

export const externalScalerDefinition = serviceDefinition(EXTERNAL_SCALER_SERVICE, {
  IsActive: { request: es.ScaledObjectRef, response: es.IsActiveResponse },
  StreamIsActive: { request: es.ScaledObjectRef, response: es.IsActiveResponse, stream: true },
  GetMetricSpec: { request: es.ScaledObjectRef, response: es.GetMetricSpecResponse },
  GetMetrics: { request: es.GetMetricsRequest, response: es.GetMetricsResponse },
});
