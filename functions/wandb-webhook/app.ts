// Function `wandb-webhook`: W&B automations and training wrappers push run
// state and summaries here. It checks its own secret (verify_jwt = false),
// keeps every authenticated delivery, and applies it as the service role
// through one SQL function (public.wandb_ingest): idempotent, newest report
// wins, all or nothing.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { httpStatusForDbCode } from '../_shared/db/status.ts';
import { readEnv } from '../_shared/env.ts';
import {
  type AppEnv, assertExactNumbers, callRpc, createFunctionApp, describeFieldErrors, type FunctionDeps, zodFieldErrors,
} from '../_shared/http/app.ts';
import { errorResponses, jsonResponse } from '../_shared/http/openapi.ts';
import { Problem } from '../_shared/http/problem.ts';
import { serviceCaller } from '../_shared/http/service_caller.ts';
import { AutomationPayload, DeliveryResult, RunReport } from './schemas.ts';
import { bearerMatches, signatureMatches } from './signature.ts';

export interface WandbWebhookOptions {
  /** The bearer token W&B sends (the webhook's access token); WANDB_WEBHOOK_TOKEN. */
  token?: string;
  /** When set, X-Wandb-Signature must be the HMAC-SHA256 of the body; WANDB_WEBHOOK_SECRET. */
  secret?: string;
}

const STATUS_BY_OUTCOME = { created: 201, applied: 200, duplicate: 200, stale: 200, recorded: 200, unmatched: 202 } as const;
// A delivery that failed on contention or time (deadlock, serialization, lock or
// statement timeout) is kept as failed and answered 503: the sender retries it.
const RETRYABLE = new Set(['40001', '40P01', '55P03', '57014']);

export function createWandbWebhookApp(deps: FunctionDeps & { wandb?: WandbWebhookOptions }) {
  const app = createFunctionApp('wandb-webhook', deps, { auth: 'none', title: 'Training registry: W&B webhook' });
  const token = deps.wandb?.token ?? readEnv('WANDB_WEBHOOK_TOKEN');
  const secret = deps.wandb?.secret ?? readEnv('WANDB_WEBHOOK_SECRET');

  app.openAPIRegistry.registerComponent('securitySchemes', 'wandbWebhookToken', {
    type: 'http', scheme: 'bearer', description: "WANDB_WEBHOOK_TOKEN: the W&B webhook's access token (not a Supabase JWT)",
  });
  app.openAPIRegistry.registerPath({
    operationId: 'ingestWandbDelivery', method: 'post', path: '/', summary: 'Ingest a W&B automation payload or a run report',
    security: [{ wandbWebhookToken: [] }],
    request: {
      headers: z.object({
        'x-wandb-signature': z.string().optional().openapi({
          description: 'HMAC-SHA256 of the raw body with WANDB_WEBHOOK_SECRET (hex, sha256=<hex> or base64); required when that secret is set',
        }),
      }),
      body: { required: true, content: { 'application/json': { schema: RunReport.or(AutomationPayload) } } },
    },
    responses: {
      200: jsonResponse(DeliveryResult, 'applied, duplicate, stale or recorded'),
      201: jsonResponse(DeliveryResult, 'the delivery created the run'),
      202: jsonResponse(DeliveryResult, 'unmatched: no such run, and not enough to create it; kept'),
      ...errorResponses,
    },
  });

  app.post('/', async (c) => {
    if (!token) throw new Problem(503, 'the webhook is not configured: set WANDB_WEBHOOK_TOKEN');
    const raw = await c.req.text();
    if (!await bearerMatches(c.req.header('authorization'), token)) {
      throw new Problem(401, 'missing or wrong webhook token: send Authorization: Bearer <WANDB_WEBHOOK_TOKEN>');
    }
    if (secret && !await signatureMatches(c.req.header('x-wandb-signature'), raw, secret)) {
      throw new Problem(401, 'missing or wrong X-Wandb-Signature: the HMAC-SHA256 of the body with WANDB_WEBHOOK_SECRET');
    }
    // From here on the sender is trusted, and every delivery is kept.
    const caller = await serviceCaller(deps.auth?.secret);
    c.set('caller', caller);

    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      await ingest(c, 'rejected', raw, 'malformed JSON');
      throw new Problem(400, 'malformed JSON body');
    }
    try {
      assertExactNumbers(raw);
    } catch (err) {
      // Kept as sent (text), since parsing it would change the very number refused.
      await ingest(c, 'rejected', raw, (err as Problem).message);
      throw err;
    }
    const isObject = typeof payload === 'object' && payload !== null && !Array.isArray(payload);
    const kind = isObject && 'event_type' in (payload as object) ? 'automation' : 'report';
    const parsed = (kind === 'automation' ? AutomationPayload : RunReport).safeParse(payload);
    if (!parsed.success) {
      const errors = zodFieldErrors(parsed.error);
      const detail = `invalid ${kind === 'automation' ? 'W&B automation payload' : 'run report'}: ${describeFieldErrors(errors)}`;
      await ingest(c, 'rejected', payload, detail);
      throw new Problem(400, detail, { errors });
    }

    const result = await ingest(c, kind, payload);
    if (result.outcome === 'failed' && RETRYABLE.has(result.code ?? '')) {
      throw new Problem(503, `delivery ${result.delivery_id} kept as failed (${result.error}): retry it`);
    }
    if (result.outcome === 'failed') {
      const status = httpStatusForDbCode(result.code ?? 'P0001', false);
      throw new Problem(status >= 500 ? 400 : status, `delivery ${result.delivery_id} kept as failed: ${result.error}`);
    }
    const status = STATUS_BY_OUTCOME[result.outcome as keyof typeof STATUS_BY_OUTCOME] ?? 200;
    return c.json({ delivery_id: result.delivery_id, outcome: result.outcome, run_id: result.run_id }, status);
  });

  function ingest(c: Context<AppEnv>, kind: 'report' | 'automation' | 'rejected', payload: unknown, error?: string) {
    return callRpc<DeliveryResult>(c, deps.db, 'wandb_ingest', { p_kind: kind, p_payload: payload, p_error: error });
  }

  return app;
}
