// Mocha root hooks: a test fails when the loopback GitHub saw a request, or gave an answer, outside GitHub's published description.
import { checked, takeUnclaimedViolations } from "./fakeGitHub";

export const mochaHooks = {
  afterEach(): void {
    const violations = takeUnclaimedViolations();
    if (violations.length > 0) throw new Error(`outside GitHub's API description:\n  ${violations.join("\n  ")}`);
  },
  afterAll(): void {
    if (checked.requests === 0) return;
    console.log(
      `loopback GitHub: ${checked.requests} requests (${checked.graphql} GraphQL) and ${checked.answers} REST answers checked against GitHub's description; ${checked.operations.size} REST operations reached: ${[...checked.operations].sort().join(", ")}`,
    );
  },
};
