-- training_examples: generated columns, cross-table keys, indexes, triggers and views
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.training_annotation_history
create index training_annotation_history_trace_idx on public.training_annotation_history using btree (trace_id, id);

-- public.training_examples
create index training_examples_cascade_cell_idx on public.training_examples using btree (cascade_id, cell_name, created_at desc);

create index training_examples_created_idx on public.training_examples using btree (created_at desc, trace_id desc);

create index training_examples_search_idx on public.training_examples using gin (search_vector);

-- The indexer's queue: examples without a vector, oldest first.
create index training_examples_search_pending_idx on public.training_examples using btree (created_at, trace_id)
  where (search_vector is null);

create trigger training_examples_search_stale
  before update of user_input, assistant_output on public.training_examples
  for each row execute function private.training_examples_search_stale();

create trigger training_examples_sync_annotation
  after update of cascade_id, cell_name on public.training_examples
  for each row when ((old.cascade_id, old.cell_name) is distinct from (new.cascade_id, new.cell_name))
  execute function private.training_examples_sync_annotation();

-- public.training_annotations
create index training_annotations_pool_cascade_idx on public.training_annotations using btree (cascade_id, verified desc, confidence desc nulls last)
  where trainable;

create index training_annotations_pool_cell_idx on public.training_annotations using btree (cascade_id, cell_name, verified desc, confidence desc nulls last)
  where trainable;

create index training_annotations_tags_idx on public.training_annotations using gin (tags);

-- Few-shot retrieval walks the trainable ones, best first.
create index training_annotations_trainable_idx on public.training_annotations using btree (verified desc, confidence desc nulls last)
  where trainable;

create trigger training_annotations_audit
  after insert or update of trace_id, trainable, verified, confidence, notes, tags or delete on public.training_annotations
  for each row execute function private.training_annotations_audit();

create trigger training_annotations_index_example
  after insert or update of trainable on public.training_annotations
  for each row when (new.trainable) execute function private.training_annotations_index_example();

-- Stamping and the history follow what annotators write, not the
-- cascade/cell sync.
create trigger training_annotations_stamp
  before insert or update of trace_id, trainable, verified, confidence, notes, tags on public.training_annotations
  for each row execute function private.training_annotations_stamp();

create index training_annotations_annotated_by_idx on public.training_annotations using btree (annotated_by);

-- ---------------------------------------------------------------------------
-- Seed 000's readers: training_examples_mv was its materialized view of the
-- examples extracted from unified_logs; here the examples are a table kept
-- as logs arrive, and this view gives tools written against the old name
-- the same rows (RLS of training_examples applies to the reader).
create view "public"."training_examples_mv" with (security_invoker=on) AS  SELECT e.trace_id,
    e.log_id,
    e.cascade_id,
    e.cell_name,
    e.model,
    e.system_prompt,
    e.user_input,
    e.assistant_output,
    e.created_at,
    e.extracted_at
   FROM public.training_examples e;

revoke all on table "public"."training_examples_mv" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_examples_mv" from "authenticated";

grant select on table "public"."training_examples_mv" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_examples_mv" to "postgres", "service_role";

create view "public"."training_examples_with_annotations" with (security_invoker=on) AS  SELECT e.trace_id,
    e.log_id,
    e.cascade_id,
    e.cell_name,
    e.model,
    e.system_prompt,
    e.user_input,
    e.assistant_output,
    e.created_at,
    e.extracted_at,
    COALESCE(a.trainable, false) AS trainable,
    COALESCE(a.verified, false) AS verified,
    a.confidence,
    a.notes,
    COALESCE(a.tags, '{}'::text[]) AS tags,
    a.annotated_by,
    a.annotated_at,
    (a.trace_id IS NOT NULL) AS annotated
   FROM (public.training_examples e
     LEFT JOIN public.training_annotations a ON ((a.trace_id = e.trace_id)));

revoke all on table "public"."training_examples_with_annotations" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_examples_with_annotations" from "authenticated";

grant select on table "public"."training_examples_with_annotations" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_examples_with_annotations" to "postgres", "service_role";

create view "public"."training_stats_by_cascade" with (security_invoker=on) AS  SELECT e.cascade_id,
    e.cell_name,
    (count(*))::integer AS examples,
    (count(*) FILTER (WHERE a.trainable))::integer AS trainable,
    (count(*) FILTER (WHERE a.verified))::integer AS verified,
    round(avg(a.confidence), 3) AS mean_confidence,
    max(e.created_at) AS latest_example
   FROM (public.training_examples e
     LEFT JOIN public.training_annotations a ON ((a.trace_id = e.trace_id)))
  GROUP BY e.cascade_id, e.cell_name;

revoke all on table "public"."training_stats_by_cascade" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_stats_by_cascade" from "authenticated";

grant select on table "public"."training_stats_by_cascade" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_stats_by_cascade" to "postgres", "service_role";

-- public.unified_logs
create index unified_logs_created_at_brin on public.unified_logs using brin (created_at);

create trigger unified_logs_extract_examples
  after insert on public.unified_logs referencing new table as new_logs
  for each statement execute function private.extract_training_examples();
