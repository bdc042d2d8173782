// Where the declarative schema lives: one folder per domain, one file per
// layer. supabase/config.toml lists the files layer by layer (every domain's
// tables, then every domain's helpers, ...), so a layer may use anything an
// earlier layer of any domain defines.
export const DOMAINS = ['foundation', 'runs', 'wandb', 'packages', 'conversations', 'training_examples'] as const;
export type Domain = typeof DOMAINS[number];

export const LAYERS = ['helpers', 'tables', 'functions', 'rules', 'access', 'api'] as const;
export type Layer = typeof LAYERS[number];

const LAYER_NUMBERS: Record<Layer, string> = { helpers: '00', tables: '10', functions: '20', rules: '30', access: '40', api: '50' };

/** The file of a domain's layer, relative to supabase/. */
export function layerFile(domain: Domain, layer: Layer): string {
  return `schemas/${domain}/${LAYER_NUMBERS[layer]}_${layer}.sql`;
}
