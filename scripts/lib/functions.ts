// Every edge function of the product, by name, for the local server and tests.
import type { FunctionDeps } from '../../functions/_shared/http/app.ts';
import { createConversationsApp } from '../../functions/conversations/app.ts';
import { createPackagesApp } from '../../functions/packages/app.ts';
import { createRunsApp } from '../../functions/runs/app.ts';
import { createTrainingExamplesApp, type TrainingExamplesOptions } from '../../functions/training-examples/app.ts';
import { createWandbWebhookApp, type WandbWebhookOptions } from '../../functions/wandb-webhook/app.ts';

type FunctionApp = { fetch: (request: Request, env?: unknown) => Response | Promise<Response> };

/** What every function gets, plus the options of functions that have their own. */
export type GatewayDeps = FunctionDeps & { wandb?: WandbWebhookOptions; trainingExamples?: TrainingExamplesOptions };

export const FUNCTIONS: Record<string, (deps: GatewayDeps) => FunctionApp> = {
  runs: createRunsApp,
  'wandb-webhook': createWandbWebhookApp,
  packages: createPackagesApp,
  conversations: createConversationsApp,
  'training-examples': createTrainingExamplesApp,
};
