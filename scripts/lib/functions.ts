// Every edge function of the product, by name, for the local server and tests.
import type { FunctionDeps } from '../../functions/_shared/http/app.ts';
import { createRunsApp } from '../../functions/runs/app.ts';

type FunctionApp = { fetch: (request: Request) => Response | Promise<Response> };

export const FUNCTIONS: Record<string, (deps: FunctionDeps) => FunctionApp> = {
  runs: createRunsApp,
};
