// The checks' one entry point, run by workshop/examiner/tests/<name> through ./check:
// `check NAME ARGS...` prints one line and exits 0 when the check passes; prints what is
// missing and what to do, and exits 1, when it fails; exits 2 when it is called wrongly.
import { clientWaits } from './client-waits.js';
import { cpuBeside } from './cpu-beside.js';
import { medianBetween } from './median-between.js';
import { prometheusScrapes } from './prometheus-scrapes.js';
import { requestsArrived } from './requests-arrived.js';
import { requestsCounted } from './requests-counted.js';
import { CheckFailed } from './verdict.js';

const CHECKS: Record<string, (args: string[]) => Promise<string>> = {
  'client-waits': clientWaits,
  'cpu-beside': cpuBeside,
  'median-between': medianBetween,
  'prometheus-scrapes': prometheusScrapes,
  'requests-arrived': requestsArrived,
  'requests-counted': requestsCounted,
};

const [name = '', ...args] = process.argv.slice(2);
const check = CHECKS[name];
if (check === undefined) {
  process.stderr.write(`no check "${name}"; there are: ${Object.keys(CHECKS).join(', ')}\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${await check(args)}\n`);
} catch (err) {
  // Never a stack trace: the learner reads these lines under the check.
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof CheckFailed) {
    process.stdout.write(`${message}\n`);
    process.exit(1);
  }
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(2);
}
