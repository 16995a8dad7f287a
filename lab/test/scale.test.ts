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
    // The timeline: each wait of the install looked at its object (asking Flux, or finding it current) and saw it Ready, beside Flux's own log lines.
    const waited = r.spans.map((w) => w.object.replace(/ t[0-9a-f]+-\d+\/t[0-9a-f]+-\d+$/, " <tenant>"));
    assert.deepEqual([...new Set(waited)].sort(), [
      "GitRepository <tenant>",
      "GitRepository flux-system/flux-system",
      "Kustomization <tenant>",
      "Kustomization flux-system/admission-policies",
      "Kustomization flux-system/flux-system",
      "Kustomization flux-system/tenants",
    ]);
    for (const w of r.spans) assert.ok(w.observedS !== undefined && w.observedS >= w.startS, `${w.object} seen Ready by its wait`);
    assert.ok(
      r.timeline.some((l) => /GitRepository flux-system\/flux-system: flux: stored artifact/.test(l)),
      "Flux's own log lines are on the timeline",
    );
  });

  it("the same install left to Flux's own timers (nothing asks it to reconcile) reaches Ready later than the program's waits", async () => {
    const { state } = lab();
    const aided = await measureScale(state, 1);
    const unaided = await measureScale(state, 1, (line) => console.log(`      ${line}`), { aided: false });
    assert.equal(unaided.aided, false);
    assert.ok(!unaided.timeline.some((l) => / asked$/.test(l)), "no reconcile request in the unaided run");
    assert.ok(unaided.installToReadyS > aided.installToReadyS, `unaided ${unaided.installToReadyS}s, aided ${aided.installToReadyS}s`);
    timings["scale (1 tenant): install to all Ready, aided and unaided"] = `${aided.installToReadyS}s, ${unaided.installToReadyS}s`;
  });
});
