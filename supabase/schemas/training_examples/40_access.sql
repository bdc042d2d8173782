-- training_examples: row-level security, policies and grants
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.training_annotation_history
alter table "public"."training_annotation_history"
  enable row level security;

create policy "training_annotation_history_select" on "public"."training_annotation_history"
  for select
  to "authenticated"
  using (true);

comment on policy "training_annotation_history_select" on "public"."training_annotation_history" is 'Reason: the audit trail of shared annotations, readable by every annotator.';

revoke all on table "public"."training_annotation_history" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_annotation_history" from "authenticated";

grant select on table "public"."training_annotation_history" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_annotation_history" to "postgres", "service_role";

-- public.training_examples
alter table "public"."training_examples"
  enable row level security;

create policy "training_examples_select" on "public"."training_examples"
  for select
  to "authenticated"
  using (true);

comment on policy "training_examples_select" on "public"."training_examples" is 'Reason: examples are extracted from shared trace logs; every signed-in annotator reads them.';

revoke all on table "public"."training_examples" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_examples" from "authenticated";

grant select on table "public"."training_examples" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_examples" to "postgres", "service_role";

-- public.training_annotations
alter table "public"."training_annotations"
  enable row level security;

create policy "training_annotations_delete" on "public"."training_annotations"
  for delete
  to "authenticated"
  using ((( select auth.uid() as uid) is not null));

create policy "training_annotations_insert" on "public"."training_annotations"
  for insert
  to "authenticated"
  with check ((( SELECT auth.uid() AS uid) IS NOT NULL));

create policy "training_annotations_select" on "public"."training_annotations"
  for select
  to "authenticated"
  using (true);

create policy "training_annotations_update" on "public"."training_annotations"
  for update
  to "authenticated"
  using ((( select auth.uid() as uid) is not null))
  with check ((( SELECT auth.uid() AS uid) IS NOT NULL));

comment on policy "training_annotations_delete" on "public"."training_annotations" is 'Reason: clearing an annotation is an annotation change like any other; the history keeps it.';

comment on policy "training_annotations_insert" on "public"."training_annotations" is 'Reason: annotations are the team''s shared judgement; any signed-in annotator writes one, and the history records who.';

comment on policy "training_annotations_select" on "public"."training_annotations" is 'Reason: annotations are the team''s shared judgement of shared examples.';

comment on policy "training_annotations_update" on "public"."training_annotations" is 'Reason: the latest annotation wins, whoever wrote it (seed 000); the history keeps every version with who wrote it.';

revoke all on table "public"."training_annotations" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_annotations" from "authenticated";

grant delete, select on table "public"."training_annotations" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_annotations" to "postgres", "service_role";

revoke all ("confidence") on table "public"."training_annotations" from "authenticated";

grant insert ("confidence"), update ("confidence") on table "public"."training_annotations" to "authenticated";

revoke all ("notes") on table "public"."training_annotations" from "authenticated";

grant insert ("notes"), update ("notes") on table "public"."training_annotations" to "authenticated";

revoke all ("tags") on table "public"."training_annotations" from "authenticated";

grant insert ("tags"), update ("tags") on table "public"."training_annotations" to "authenticated";

revoke all ("trace_id") on table "public"."training_annotations" from "authenticated";

grant insert ("trace_id") on table "public"."training_annotations" to "authenticated";

revoke all ("trainable") on table "public"."training_annotations" from "authenticated";

grant insert ("trainable"), update ("trainable") on table "public"."training_annotations" to "authenticated";

revoke all ("verified") on table "public"."training_annotations" from "authenticated";

grant insert ("verified"), update ("verified") on table "public"."training_annotations" to "authenticated";

-- public.unified_logs
alter table "public"."unified_logs"
  enable row level security;

create policy "unified_logs_select" on "public"."unified_logs"
  for select
  to "authenticated"
  using (true);

comment on policy "unified_logs_select" on "public"."unified_logs" is 'Reason: trace logs are the team''s shared source of training examples; service role writes, every signed-in user reads.';

revoke all on table "public"."unified_logs" from "anon", "authenticated", "service_role";

revoke all on table "public"."unified_logs" from "authenticated";

grant select on table "public"."unified_logs" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."unified_logs" to "postgres", "service_role";
