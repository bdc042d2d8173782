// Who may deliver: the bearer token W&B sends as the webhook's "access token",
// and, when a secret is configured, X-Wandb-Signature: the HMAC-SHA256 of the
// raw body (hex, optionally "sha256=", or base64). Compared in constant time.
const encoder = new TextEncoder();

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

/** Equal in time that does not depend on where the inputs differ (digests first, so lengths leak nothing). */
async function constantTimeEqual(a: Uint8Array, b: Uint8Array): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(a), sha256(b)]);
  let diff = 0;
  for (let i = 0; i < da.length; i++) diff |= da[i]! ^ db[i]!;
  return diff === 0;
}

export async function bearerMatches(header: string | undefined, token: string): Promise<boolean> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return await constantTimeEqual(encoder.encode(match?.[1] ?? ''), encoder.encode(token)) && match !== null;
}

function decodeSignature(value: string): Uint8Array | null {
  const v = value.trim().replace(/^sha256=/i, '');
  if (/^[0-9a-f]{64}$/i.test(v)) return new Uint8Array(v.match(/../g)!.map((h) => parseInt(h, 16)));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) {
    const b64 = v.replace(/-/g, '+').replace(/_/g, '/').padEnd(44, '=');
    const bin = atob(b64);
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  }
  return null;
}

export async function hmacSha256(secret: string, body: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(body)));
}

export async function signatureMatches(header: string | undefined, body: string, secret: string): Promise<boolean> {
  const given = header ? decodeSignature(header) : null;
  const expected = await hmacSha256(secret, body);
  return await constantTimeEqual(given ?? new Uint8Array(0), expected) && given !== null;
}
