import { application } from '../../apps/hello-world-v3/metrics.js';
import { describeEveryPath } from '../helpers/wrapper-paths.js';

describeEveryPath('hello-world-v3 wrapper', application);
