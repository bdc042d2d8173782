-- Inverse of 20261122000000_foundation.sql
drop function if exists private.cursor_decode(text);
drop function if exists private.cursor_encode(jsonb);
drop function if exists private.set_updated_at();
drop function if exists private.is_http_url(text);
drop function if exists private.is_s3_key(text);
drop function if exists private.config_value(jsonb, text);
drop function if exists private.jsonb_str(jsonb);
drop function if exists private.jsonb_int(jsonb);
drop function if exists private.jsonb_num(jsonb);
drop schema if exists private;
