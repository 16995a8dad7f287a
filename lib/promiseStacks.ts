// Building the resources without the stack trace the Pulumi SDK records on every internal promise.

/**
 * Runs `build` with `Error.stackTraceLimit` at 0. The SDK attaches `new Error().stack` to each of the
 * four promises behind every resource property, only for its report of promises left pending; under
 * ts-node each of those traces is also source-mapped. At 500 tenants that was most of the evaluation
 * time and a third of its peak memory. The SDK captures a resource's source position with its own
 * unlimited trace, so previews keep pointing at the right line; errors thrown while building keep
 * their messages (they name the key and the fix), not their frames. PULUMI_DEBUG_PROMISE_LEAKS set
 * keeps the traces, for the report that needs them.
 */
export function withoutPromiseStacks<T>(build: () => T): T {
  if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return build();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
