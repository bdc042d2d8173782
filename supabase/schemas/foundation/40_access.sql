-- foundation: row-level security, policies and grants
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- private.adopted_tables
grant delete, insert, references, select, trigger, truncate, update on table "private"."adopted_tables" to "postgres";

-- private.idempotency_keys
grant delete, insert, references, select, trigger, truncate, update on table "private"."idempotency_keys" to "postgres", "service_role";

-- public.user_profiles
alter table "public"."user_profiles"
  enable row level security;

create policy "user_profiles_insert_own" on "public"."user_profiles"
  for insert
  to "authenticated"
  with check ((id = ( SELECT auth.uid() AS uid)));

create policy "user_profiles_select" on "public"."user_profiles"
  for select
  to "authenticated"
  using (((id = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

create policy "user_profiles_update_own" on "public"."user_profiles"
  for update
  to "authenticated"
  using ((id = ( select auth.uid() as uid)))
  with check ((id = ( SELECT auth.uid() AS uid)));

revoke all on table "public"."user_profiles" from "anon", "authenticated", "service_role";

revoke all on table "public"."user_profiles" from "authenticated";

grant select on table "public"."user_profiles" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."user_profiles" to "postgres", "service_role";

revoke all ("display_name") on table "public"."user_profiles" from "authenticated";

grant insert ("display_name"), update ("display_name") on table "public"."user_profiles" to "authenticated";

revoke all ("id") on table "public"."user_profiles" from "authenticated";

grant insert ("id") on table "public"."user_profiles" to "authenticated";
