// In a process of its own (node --test runs each file alone): importing v7's wrapper swaps the
// duration histogram for the counted one, for the whole process.
import { application } from '../../apps/hello-world-v7/metrics.js';
import { describeEveryPath } from '../helpers/wrapper-paths.js';

describeEveryPath('hello-world-v7 wrapper, histogram counted in plain numbers', application);
