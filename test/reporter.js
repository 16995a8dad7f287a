// Mocha's spec reporter plus one closing line in the plain "N passed, N failed, N skipped" form CI reads.
"use strict";
const Spec = require("mocha/lib/reporters/spec");

class SpecWithSummary extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once("end", () => {
      const s = runner.stats;
      process.stdout.write(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}

module.exports = SpecWithSummary;
