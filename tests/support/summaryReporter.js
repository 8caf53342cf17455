'use strict';
/**
 * Prints jest's totals as one plain line, `tests: N passed, N failed, N skipped`, so that CI logs (and tools that read
 * the last line of a run) see the outcome without parsing jest's own summary.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(
      `tests: ${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
