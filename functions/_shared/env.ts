// Environment access that works under Deno (Supabase edge runtime) and Node.
type DenoEnv = { env: { get(name: string): string | undefined } };

export function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: DenoEnv }).Deno;
  const value = deno ? deno.env.get(name) : (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
  return value === '' ? undefined : value;
}

/** Supabase's local development JWT secret: the default when none is configured. */
export const LOCAL_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
