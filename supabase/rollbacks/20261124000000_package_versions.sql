-- Inverse of 20261124000000_package_versions.sql: every function, trigger,
-- policy and table it creates; training_configs only if it created it.
drop function if exists public.packages_diff_versions(uuid, uuid);
drop function if exists public.packages_fork_version(uuid, text, text);
drop function if exists public.packages_delete_version(uuid);
drop function if exists public.packages_set_training(uuid, jsonb);
drop function if exists public.packages_set_deployment(uuid, boolean, text, text, text);
drop function if exists public.packages_archive_version(uuid);
drop function if exists public.packages_publish_version(uuid);
drop function if exists public.packages_update_version(uuid, jsonb);
drop function if exists public.packages_get_version_by_number(uuid, integer);
drop function if exists public.packages_get_version(uuid);
drop function if exists public.packages_list_versions(uuid, text, integer, text);
drop function if exists public.packages_create_version(uuid, text, jsonb, jsonb, jsonb, text, numeric, numeric);
drop function if exists public.packages_next_version_number(uuid);
drop function if exists public.packages_get(uuid);
drop function if exists public.packages_list(integer, text);
drop function if exists public.packages_create(text, text, jsonb);
drop function if exists private.jsonb_diff(text, jsonb, jsonb);
drop function if exists private.package_version_set_lifecycle(uuid, jsonb);
drop function if exists private.package_version_lost_race(uuid, text);
drop function if exists private.package_version_must_be_draft(public.training_package_versions, text);
drop function if exists private.package_version_visible(uuid);
drop function if exists private.package_visible(uuid);
drop function if exists private.package_version_json(public.training_package_versions);
drop function if exists private.package_json(public.training_configs);
drop table if exists public.training_package_versions cascade;
-- training_configs goes only if this migration created it; a table it found
-- is stripped back to what it was, rows kept (the adoption ledger).
do $$
begin
  if pg_catalog.to_regprocedure('private.adoption_undo(text, text)') is null then
    raise exception using errcode = '55000',
      message = 'this database applied 20261124000000 before the adoption ledger existed: its rollback cannot tell whether training_configs was created or found, so it will not roll it back';
  end if;
  perform private.adoption_undo('20261124000000', 'public.training_configs');
end
$$;
drop function if exists private.package_version_after_delete();
drop function if exists private.package_version_before_delete();
drop function if exists private.package_version_after_status_change();
drop function if exists private.package_refresh_current_version(uuid);
drop function if exists private.package_version_before_update();
drop function if exists private.package_version_before_insert();
drop function if exists private.set_updated_at_column();
drop function if exists private.snapshot_sha256(jsonb, jsonb, jsonb);
drop function if exists private.canonical_json(jsonb);
drop function if exists private.time_cursor_decode(text);
drop function if exists private.check_page_limit(integer, integer);
drop function if exists private.adoption_undo(text, text);
drop function if exists private.adoption_begin(text, text);
drop function if exists private.table_state(regclass);
drop table if exists private.adopted_tables;
