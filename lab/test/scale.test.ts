// The scale measurement `npm run bench` runs on the lab, kept working here at a small size (timings are the bench's, not asserted).
import * as assert from "assert/strict";
import { getJson, lab, timings } from "./support";
import { measureScale } from "./scale";

describe("the lab at fleet scale: the measurement the bench runs", function () {
  it("bootstraps Flux for three tenants, each Ready; a fleet and a tenant commit reach Ready; Flux and the tenants are gone after", async () => {
    const { state } = lab();
    const r = await measureScale(state, 3, (line) => console.log(`      ${line}`));
    assert.equal(r.tenants, 3);
    assert.deepEqual(
      r.installSteps.map((s) => s.replace(/ [\d.]+s$/, "")),
      ["install", "source", "flux-system", "admission-policies", "tenants", "3 tenants"],
    );
    for (const v of [r.installToReadyS, r.commitToReadyS, r.tenantCommitToReadyS]) assert.ok(v > 0);
    assert.equal(await getJson(state, ["namespace", "flux-system"]), undefined, "Flux is uninstalled after the measurement");
    timings["scale (3 tenants): install to all Ready, fleet commit, tenant commit"] = `${r.installToReadyS}s, ${r.commitToReadyS}s, ${r.tenantCommitToReadyS}s`;
  });
});
