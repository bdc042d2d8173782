// Environment access that works under Deno (Supabase edge runtime) and Node.
type DenoEnv = { env: { get(name: string): string | undefined } };

export function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: DenoEnv }).Deno;
  const value = deno ? deno.env.get(name) : (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
  return value === '' ? undefined : value;
}

/** Supabase's local development JWT secret: the default when none is configured. */
export const LOCAL_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';

/** A hosted project's API URL (https://<ref>.supabase.co), as opposed to a local stack's. */
const HOSTED_PROJECT_URL = /^https:\/\/[a-z0-9]+\.supabase\.(co|in)\/?$/i;

/**
 * True inside Supabase's hosted edge runtime: it sets SB_EXECUTION_ID for
 * every isolate, and SUPABASE_URL to the project's hosted URL. There the
 * public local secret must never be trusted.
 */
export function onSupabaseRuntime(): boolean {
  return readEnv('SB_EXECUTION_ID') !== undefined || HOSTED_PROJECT_URL.test(readEnv('SUPABASE_URL') ?? '');
}
