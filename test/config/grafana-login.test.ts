// Grafana's service in docker-compose.yml lets nobody log in with a password anyone knows:
// the learner's shell, any process on the host and a page that rebinds a DNS name to
// 127.0.0.1 all reach port 3000. Read with Grafana's own defaults (conf/defaults.ini and
// the authn client registration of Grafana 12): its own users log in with a password
// through the basic-auth client ([auth.basic] enabled, on by default) and the login form
// ([auth] disable_login_form, off by default), unless [auth] disable_login; the initial
// admin is admin/admin unless [security] disable_initial_admin_creation or a password of
// the user's own; sign-up ([users] allow_sign_up) and the auth proxy ([auth.proxy]) let
// anyone in under a name of their choosing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../../harness/servers.js';

interface Service {
  environment?: Record<string, string | boolean | number> | string[];
  env_file?: unknown;
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
}

const read = (file: string): Compose =>
  parse(readFileSync(join(ROOT, file), 'utf8'), { merge: true }) as Compose;

const environment = (service: Service): Map<string, string> =>
  new Map(
    Array.isArray(service.environment)
      ? service.environment.map((e) => e.split(/=(.*)/s, 2) as [string, string])
      : Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]),
  );

// What Grafana ends up with for a value Compose interpolates when the variable is unset:
// `${X:-d}` gives d; `${X:?m}` refuses to start (the value is the user's own, unknown);
// `${X}` gives "" and Grafana ignores an empty GF_ variable, keeping its default.
type Value = { known: string } | { unknown: true };
function value(raw: string | undefined, fallback: string): Value {
  if (raw === undefined) return { known: fallback };
  const m = /^\$\{(\w+)(?:(:?[-?])(.*))?\}$/s.exec(raw);
  if (!m) return raw.includes('$') ? { unknown: true } : { known: raw === '' ? fallback : raw };
  const [, , op, rest] = m;
  if (op === ':?' || op === '?') return { unknown: true };
  if (op === ':-' || op === '-') return { known: rest === '' ? fallback : (rest ?? fallback) };
  return { known: fallback };
}
const flag = (env: Map<string, string>, key: string, fallback: boolean): boolean => {
  const v = value(env.get(key), String(fallback));
  return 'known' in v ? /^(true|1|yes|on)$/i.test(v.known) : !fallback;
};

// Earlier versions of docker-compose.yml ran Grafana with its default admin/admin on this
// volume, and Grafana keeps an account once made: a learner's existing volume holds it.
const VOLUMES_WITH_ADMIN_ADMIN = new Set(['grafana-data']);

/** The ways into this Grafana with a password someone other than its owner knows. */
function knownPasswordLogins(service: Service): string[] {
  const env = environment(service);
  const found: string[] = [];
  if (service.env_file !== undefined) found.push('env_file: settings this test cannot see');
  const mounts = service.volumes ?? [];
  if (env.has('GF_PATHS_CONFIG') || mounts.some((m) => /:\/etc\/grafana\/grafana\.ini\b/.test(m)))
    found.push('a grafana.ini of its own: settings this test cannot see');
  const anonymousRole = value(env.get('GF_AUTH_ANONYMOUS_ORG_ROLE'), 'Viewer');
  if (
    flag(env, 'GF_AUTH_ANONYMOUS_ENABLED', false) &&
    !('known' in anonymousRole && anonymousRole.known === 'Viewer')
  )
    found.push('anonymous visitors get more than Viewer');
  if (flag(env, 'GF_AUTH_PROXY_ENABLED', false)) found.push('auth proxy: any name, no password');

  const accounts: string[] = [];
  const password = env.has('GF_SECURITY_ADMIN_PASSWORD__FILE')
    ? ({ unknown: true } as const)
    : value(env.get('GF_SECURITY_ADMIN_PASSWORD'), 'admin');
  if (!flag(env, 'GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION', false) && 'known' in password)
    accounts.push(`the initial admin, password "${password.known}"`);
  for (const mount of mounts) {
    const [source, target] = mount.split(':');
    if (target === '/var/lib/grafana' && source && VOLUMES_WITH_ADMIN_ADMIN.has(source))
      accounts.push(`admin/admin, kept on the ${source} volume from earlier versions`);
  }
  if (flag(env, 'GF_USERS_ALLOW_SIGN_UP', false)) accounts.push('an account anyone signs up for');

  const paths: string[] = [];
  if (!flag(env, 'GF_AUTH_DISABLE_LOGIN', false)) {
    if (flag(env, 'GF_AUTH_BASIC_ENABLED', true)) paths.push('basic auth');
    if (!flag(env, 'GF_AUTH_DISABLE_LOGIN_FORM', false)) paths.push('the login form');
  }
  for (const path of paths) for (const account of accounts) found.push(`${path}: ${account}`);
  return found;
}

const grafana = (compose: Compose): Service => {
  const service = compose.services['grafana'];
  assert.ok(service, 'a grafana service');
  return service;
};

describe("Grafana's service configuration", () => {
  it('lets nobody log in with a known password, and anonymous visitors only view', () => {
    const service = grafana(read('docker-compose.yml'));
    assert.deepEqual(knownPasswordLogins(service), []);
    const env = environment(service);
    assert.equal(env.get('GF_AUTH_ANONYMOUS_ENABLED'), 'true', 'the learner views without a login');
  });

  it("gives the instructor's override an admin whose password Compose refuses to start without", () => {
    const base = grafana(read('docker-compose.yml'));
    const overlay = grafana(read('grafana/instructor.yml'));
    // Compose merges environment by key and volumes by their target path.
    const target = (m: string): string | undefined => m.split(':')[1];
    const merged: Service = {
      environment: Object.fromEntries([...environment(base), ...environment(overlay)]),
      volumes: [
        ...(base.volumes ?? []).filter(
          (m) => !(overlay.volumes ?? []).some((o) => target(o) === target(m)),
        ),
        ...(overlay.volumes ?? []),
      ],
    };
    assert.deepEqual(knownPasswordLogins(merged), []);
    assert.match(
      environment(overlay).get('GF_SECURITY_ADMIN_PASSWORD') ?? '',
      /^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/,
    );
    assert.equal(flag(environment(merged), 'GF_AUTH_DISABLE_LOGIN_FORM', false), false, 'a form');
  });

  it('finds the known password in the configurations that had one', () => {
    const cases: [string, Service, RegExp][] = [
      // docker-compose.yml until this check: Grafana's defaults, the form hidden.
      [
        'the defaults',
        {
          environment: { GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_DISABLE_LOGIN_FORM: 'true' },
          volumes: ['grafana-data:/var/lib/grafana'],
        },
        /^basic auth: the initial admin, password "admin"$/,
      ],
      [
        'a password written in the file',
        { environment: ['GF_SECURITY_ADMIN_PASSWORD=secret'] },
        /password "secret"/,
      ],
      [
        'a default in the interpolation',
        { environment: { GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD:-admin}' } },
        /password "admin"/,
      ],
      [
        'an unset variable with no default',
        { environment: { GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD}' } },
        /password "admin"/,
      ],
      [
        'a required password over the old volume',
        {
          environment: { GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD:?set it}' },
          volumes: ['grafana-data:/var/lib/grafana'],
        },
        /admin\/admin, kept on the grafana-data volume/,
      ],
      [
        'sign-up',
        {
          environment: {
            GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION: 'true',
            GF_USERS_ALLOW_SIGN_UP: 'true',
          },
        },
        /signs up/,
      ],
      [
        'anonymous admins',
        { environment: { GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Admin' } },
        /more than Viewer/,
      ],
    ];
    for (const [name, service, expected] of cases) {
      const found = knownPasswordLogins(service);
      assert.ok(
        found.some((f) => expected.test(f)),
        `${name}: ${JSON.stringify(found)}`,
      );
    }
    // And none once every password path is off, whatever accounts the volume holds.
    assert.deepEqual(
      knownPasswordLogins({
        environment: { GF_AUTH_BASIC_ENABLED: 'false', GF_AUTH_DISABLE_LOGIN_FORM: 'true' },
        volumes: ['grafana-data:/var/lib/grafana'],
      }),
      [],
    );
  });
});
