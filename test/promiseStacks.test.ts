// Building without the SDK's per-promise stack traces: the limit is back afterwards, and the leak report keeps its traces.
import { strict as assert } from "assert";
import { withoutPromiseStacks } from "../lib/promiseStacks";

describe("building without promise stack traces", () => {
  it("builds with no stack frames, then restores the limit, even when the build throws", () => {
    const limit = Error.stackTraceLimit;
    assert.equal(
      withoutPromiseStacks(() => new Error("x").stack),
      "Error: x",
    );
    assert.equal(Error.stackTraceLimit, limit);
    assert.throws(
      () =>
        withoutPromiseStacks(() => {
          throw new Error("tenant x: bad");
        }),
      { message: "tenant x: bad" },
    );
    assert.equal(Error.stackTraceLimit, limit);
  });

  it("keeps the traces when PULUMI_DEBUG_PROMISE_LEAKS asks for the leak report", () => {
    process.env.PULUMI_DEBUG_PROMISE_LEAKS = "true";
    try {
      assert.match(withoutPromiseStacks(() => new Error("x").stack) ?? "", /\n\s+at /);
    } finally {
      delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
    }
  });
});
