// The function-app contract the provider adapter consumes and the local Functions host implements:
// the host loads an app and invokes its functions as the Node.js language worker does; the provider's
// work-item loop (and the host's HTTP trigger server) drive those functions through it.

/** RpcTypedData as the Node worker passes it: exactly one field set. */
export interface TypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: unknown;
}

/**
 * `value` as TypedData whose JSON string is made only when read: an app that takes the request's
 * `trigger` never pays for it.
 */
export function jsonData(value: unknown): TypedData {
  let text: string | undefined;
  return {
    get string() {
      return (text ??= JSON.stringify(value));
    },
  };
}

export interface FunctionBinding {
  name: string;
  type: string;
  direction: "in" | "out" | "inout";
  [setting: string]: unknown;
}

export interface RegisteredFunction {
  name: string;
  /** Binding name -> binding, as the app registered them (names carry @azure/functions' hash suffix). */
  bindings: Record<string, FunctionBinding>;
  /** The trigger binding's type: "httpTrigger", "orchestrationTrigger", "activityTrigger", "entityTrigger", ... */
  triggerType: string;
  triggerBindingName: string;
}

export interface InvocationRequest {
  /** Input data by binding name (the trigger's and any extra inputs'). */
  inputData: Record<string, TypedData>;
  /**
   * The trigger's input as the function receives it, when the caller built it as an object (the
   * durable triggers): an app that can take it so skips the trigger's JSON text, which inputData
   * still carries (jsonData) for any that reads it.
   */
  trigger?: unknown;
  triggerMetadata?: Record<string, TypedData>;
}

export interface InvocationResult {
  /** The function's return value (after @azure/functions' getResponse). */
  returnValue: unknown;
  /** Output bindings by name, when the function set any. */
  outputs: Record<string, unknown>;
}

export interface FunctionApp {
  readonly dir: string;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  /**
   * The app's durable-functions honours RetryOptions.retryTimeoutInMilliseconds (the host adapts 3.x
   * to, host/retry-timeouts.ts); the replay re-enactment then applies the same rule.
   */
  readonly retryTimeouts?: boolean;
  /** Invokes a function as the Node worker would (hooks included); rejects with the function's error. */
  invoke(functionName: string, request: InvocationRequest): Promise<InvocationResult>;
  /** Runs the appTerminate hooks. */
  close(): Promise<void>;
}
