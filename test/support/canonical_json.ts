// The canonical JSON the database hashes at publish (README: "Snapshot hash"),
// written independently here so a test can check a published version's
// integrity from outside. Numbers are written as JavaScript does, which is the
// database's plain decimal form for the integers and short decimals used here.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function snapshotSha256(v: { config_snapshot: unknown; model_snapshot: unknown; dataset_snapshot: unknown }): string {
  const canonical = canonicalJson({
    config_snapshot: v.config_snapshot, model_snapshot: v.model_snapshot, dataset_snapshot: v.dataset_snapshot,
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
