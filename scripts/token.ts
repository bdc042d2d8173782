// npm run token -- --sub <uuid> [--role authenticated|anon|service_role] [--ttl <seconds>]
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../functions/_shared/db/port.ts';
import { mintToken } from './lib/tokens.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string', default: 'authenticated' },
    ttl: { type: 'string', default: String(30 * 24 * 3600) },
  },
});
const role = values.role as Role;
if (!ROLES.includes(role)) {
  console.error(`--role must be one of ${ROLES.join(', ')}`);
  process.exit(2);
}
if (role === 'authenticated' && !/^[0-9a-f-]{36}$/i.test(values.sub ?? '')) {
  console.error('an authenticated token needs --sub <uuid>');
  process.exit(2);
}
// Every token gets an exp (the functions refuse one without): a positive lifetime is required.
const ttlSeconds = Number(values.ttl);
if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
  console.error('--ttl must be a positive number of seconds');
  process.exit(2);
}
console.log(await mintToken({ role, sub: values.sub, ttlSeconds }));
