-- foundation: generated columns, cross-table keys, indexes, triggers and views
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- private.idempotency_keys
create index idempotency_keys_expires_at_idx on private.idempotency_keys using btree (expires_at);

-- public.user_profiles
create index user_profiles_reviewers_idx on public.user_profiles using btree (id)
  where is_reviewer;
