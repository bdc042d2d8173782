// The documents whose examples CI runs (npm run docs:test), in the order a
// reader meets them: the database state carries from one to the next.
export const DOCUMENTED_EXAMPLES = [
  'README.md',
  'functions/runs/README.md',
  'functions/wandb-webhook/README.md',
  'functions/packages/README.md',
  'functions/conversations/README.md',
  'functions/training-examples/README.md',
];

/** What the documents call the local server; the runner puts the real address in its place. */
export const DOCUMENTED_BASE = 'http://127.0.0.1:54321';
