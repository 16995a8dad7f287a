// The users' GitHub Actions workflows: valid YAML, pinned actions, the README's commands, the right triggers and jobs.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_DIR } from "./helpers";

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { "runs-on": string; needs?: string | string[]; environment?: string; steps: Step[]; strategy?: { matrix: Record<string, unknown[]> } };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job>; permissions?: Record<string, string> };

function workflow(name: string): Workflow {
  return parse(fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", name), "utf8")) as Workflow;
}

const runs = (job: Job) => job.steps.filter((s) => s.run).map((s) => s.run!.trim());
const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("users' workflows", () => {
  const names = ["preview.yml", "up.yml", "e2e.yml"];

  it("are all there and valid YAML", () => {
    assert.deepEqual(fs.readdirSync(path.join(PROJECT_DIR, ".github", "workflows")).sort(), [...names].sort());
    for (const n of names) assert.ok(workflow(n).jobs, n);
  });

  it("pin every action to an exact release or commit", () => {
    for (const n of names) {
      for (const job of Object.values(workflow(n).jobs)) {
        for (const s of job.steps.filter((x) => x.uses)) assert.match(s.uses!, /^[\w.-]+\/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/, `${n}: ${s.uses}`);
      }
    }
  });

  it("install and test with the README's own commands before any Pulumi step", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    assert.match(readme, /npm ci {2}.*install/);
    assert.match(readme, /npm test {2}.*test/);
    for (const n of names) {
      for (const [id, job] of Object.entries(workflow(n).jobs)) {
        const r = runs(job);
        assert.ok(r.includes("npm ci"), `${n}/${id} runs npm ci`);
        const firstPulumi = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@") || /\bpulumi /.test(s.run ?? ""));
        if (firstPulumi >= 0) assert.ok(job.steps.findIndex((s) => s.run === "npm ci") < firstPulumi, `${n}/${id}: install first`);
      }
    }
    assert.ok(runs(workflow("preview.yml").jobs.test).includes("npm test"));
    for (const id of ["staging", "production"]) assert.ok(runs(workflow("up.yml").jobs[id]).includes("npm test"));
    assert.ok(runs(workflow("e2e.yml").jobs.e2e).includes("npm test"));
  });

  it("preview: on pull requests, both stacks, commented, with the policy pack", () => {
    const w = workflow("preview.yml");
    assert.deepEqual(Object.keys(w.on), ["pull_request"]);
    assert.equal(w.permissions?.["pull-requests"], "write");
    const job = w.jobs.preview;
    assert.deepEqual(job.strategy?.matrix.stack, ["staging", "production"]);
    assert.equal(job.needs, "test");
    // Refresh reads the kind cluster, which only its own host can: staging previews where it is upped.
    assert.equal(job["runs-on"], "${{ matrix.stack == 'staging' && (vars.STAGING_RUNNER || 'self-hosted') || 'ubuntu-latest' }}");
    assert.equal(workflow("up.yml").jobs.staging["runs-on"], "${{ vars.STAGING_RUNNER || 'self-hosted' }}");
    const [pulumi] = pulumiSteps(job);
    assert.equal(pulumi.with?.command, "preview");
    assert.equal(pulumi.with?.["comment-on-pr"], true);
    assert.equal(pulumi.with?.policyPacks, "policy");
    assert.ok(runs(job).includes("npm ci --prefix policy"));
    assert.deepEqual(Object.keys(pulumi.env ?? {}).sort(), ["GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    for (const v of Object.values(pulumi.env ?? {})) assert.match(v, /^\$\{\{ secrets\.\w+ \}\}$/, "backend and tokens come from repository secrets");
  });

  it("up: staging on pushes to main, production after it behind the production environment", () => {
    const w = workflow("up.yml");
    assert.deepEqual((w.on.push as { branches: string[] }).branches, ["main"]);
    assert.equal(pulumiSteps(w.jobs.staging)[0].with?.command, "up");
    assert.match(String(pulumiSteps(w.jobs.staging)[0].with?.["stack-name"]), /staging/);
    assert.equal(w.jobs.production.needs, "staging");
    assert.equal(w.jobs.production.environment, "production");
    assert.equal(pulumiSteps(w.jobs.production)[0].with?.command, "up");
    assert.match(String(pulumiSteps(w.jobs.production)[0].with?.["stack-name"]), /production/);
  });

  it("e2e: the program's own kind cluster, upstream's checks, the isolation checks, a clean destroy", () => {
    const w = workflow("e2e.yml");
    assert.ok("workflow_dispatch" in w.on);
    const script = runs(w.jobs.e2e).join("\n");
    for (const expected of [
      /pulumi up --yes --skip-preview --stack "\$STACK"/,
      /kubectl -n flux-system wait kustomizations\.kustomize\.toolkit\.fluxcd\.io --all --for=condition=Ready/,
      /kubectl -n apps wait kustomizations\.kustomize\.toolkit\.fluxcd\.io\/dev-team --for=condition=Ready/,
      /namespace: flux-system \}[\s\S]*grep -i "cross-namespace"/,
      /grep "system:serviceaccount:apps:default"/,
      /grep -i "remote"/,
      /--target-dependents[\s\S]*Terminating/,
      /pulumi destroy --yes --skip-preview --stack "\$STACK"$/m,
    ]) {
      assert.match(script, expected);
    }
    assert.ok(!/kind create cluster/.test(script), "the program creates the cluster, not the workflow");
  });
});
