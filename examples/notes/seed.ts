import type { Cognition } from '../../src/cognition.js';
import { isCognitionError } from '../../src/errors.js';
import type { SeedOutput } from '../../src/local/app.js';

/** The password the local stack gives the demo users' logins (development only). */
export const NOTES_DEMO_PASSWORD = 'Demo-Passw0rd';

const DEMO_USERS = [
  { email: 'admin@demo.test', role: 'admin' as const, givenName: 'Ada', note: 'Welcome to the demo tenant' },
  {
    email: 'user@demo.test',
    role: 'user' as const,
    givenName: 'Uma',
    note: 'Notes are shared within a tenant',
  },
];

/** The tenant `demo` with an admin and a user, each with a first note. Running it again changes nothing. */
export async function seed(cognition: Cognition): Promise<SeedOutput> {
  if (!(await cognition.tenants.get('demo'))) {
    await cognition.tenants.create({ slug: 'demo', name: 'Demo Tenant' });
  }
  for (const demo of DEMO_USERS) {
    try {
      await cognition.users.invite({
        email: demo.email,
        tenant: 'demo',
        role: demo.role,
        givenName: demo.givenName,
      });
    } catch (error) {
      if (!isCognitionError(error, 'ERR_USER_EXISTS')) throw error;
    }
    const { user, created } = await cognition.users.provision(demo.email);
    if (created) await cognition.runAs(user, 'insert into notes (title) values ($1)', [demo.note]);
  }
  return {
    users: DEMO_USERS.map((u) => ({ email: u.email, tenant: 'demo', role: u.role })),
    password: NOTES_DEMO_PASSWORD,
  };
}
