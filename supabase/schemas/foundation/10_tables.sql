-- foundation: tables, their columns, checks and keys
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

create table "private"."adopted_tables" (
  "migration"   text                     not null,
  "table_name"  text                     not null,
  "existed"     boolean                  not null,
  "state"       jsonb,
  "recorded_at" timestamp with time zone not null default now(),
  constraint "adopted_tables_pkey" primary key (migration, table_name)
);

-- Clients never read these: private, reached only through the functions below.
create table "private"."idempotency_keys" (
  "scope"       text                     not null,
  "key"         text                     not null,
  "fingerprint" text                     not null,
  "fn"          text                     not null,
  "result"      jsonb,
  "created_at"  timestamp with time zone not null default now(),
  "expires_at"  timestamp with time zone not null default (now() + '24:00:00'::interval),
  constraint "idempotency_keys_fingerprint_format" check ((fingerprint ~ '^[0-9a-f]{64}$'::text)),
  constraint "idempotency_keys_key_length" check (((length(key) >= 1) AND (length(key) <= 255))),
  constraint "idempotency_keys_pkey" primary key (scope, key),
  constraint "idempotency_keys_scope_length" check (((length(scope) >= 1) AND (length(scope) <= 200)))
);

create table "public"."user_profiles" (
  "id"           uuid                     not null,
  "display_name" text,
  "created_at"   timestamp with time zone not null default now(),
  "is_reviewer"  boolean                  not null default false,
  constraint "user_profiles_id_fkey" foreign key (id) references auth.users(id) on delete cascade,
  constraint "user_profiles_pkey" primary key (id)
);
