// npm run workshop [-- --page N|name] [--grafana-url URL] [--yes]
// npm run workshop -- check
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkWorkshop } from './check.js';
import { createRunner } from './runner.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    page: { type: 'string' },
    'grafana-url': { type: 'string' },
    yes: { type: 'boolean', default: false },
    root: { type: 'string', default: ROOT },
  },
});

if (positionals[0] === 'check') {
  const problems = checkWorkshop(values.root);
  for (const p of problems)
    process.stderr.write(
      `${p.page === 'workshop' ? 'workshop' : `workshop/${p.page}.md:${p.line}`}: ${p.message}\n`,
    );
  process.stdout.write(
    problems.length === 0
      ? 'workshop check: every action matches the repository\n'
      : `workshop check: ${problems.length} problem(s)\n`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
} else if (positionals.length > 0) {
  process.stderr.write(
    `workshop: unknown command "${positionals.join(' ')}"; use: npm run workshop [-- check | --page N]\n`,
  );
  process.exit(2);
}

const runner = createRunner({
  root: values.root,
  input: process.stdin,
  output: process.stdout,
  yes: values.yes,
  ...(values['grafana-url'] === undefined ? {} : { grafanaUrl: values['grafana-url'] }),
});
const stop = (): void => {
  void runner.interruptAll().then(() => process.exit(130));
};
process.once('SIGINT', stop);
try {
  await runner.run(values.page === undefined ? 0 : runner.find(values.page));
} catch (err) {
  process.stderr.write(`workshop: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
runner.close();
