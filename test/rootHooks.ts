// Mocha root hooks: a test fails when the loopback GitHub saw a request, or gave an answer, outside GitHub's published description.
import { takeUnclaimedViolations } from "./fakeGitHub";

export const mochaHooks = {
  afterEach(): void {
    const violations = takeUnclaimedViolations();
    if (violations.length > 0) throw new Error(`outside GitHub's API description:\n  ${violations.join("\n  ")}`);
  },
};
