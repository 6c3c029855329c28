-- Least privilege in the database. Two roles, cluster-wide:
--   jingfang_owner  owns every object; migrations and the demo seed run as it
--                   (jingfang-migrate switches to it once it exists);
--   jingfang_app    what jingfang-api, jingfang-worker and jingfang-reconcile
--                   connect as: it reads, inserts and updates the rows of the
--                   service, deletes only where the service deletes, and may
--                   only INSERT and SELECT the audit log. It owns nothing, so
--                   it can neither disable nor drop a trigger, alter or drop a
--                   table, nor create anything in the schema.
-- Neither is a superuser; neither may run programs or read and write files
-- on the database host (COPY … TO PROGRAM needs pg_execute_server_program).
--
-- On a database migrated before this file, by a superuser, this migration
-- creates the roles (without LOGIN: give them a password and LOGIN, see
-- deploy/README.md) and hands the database and every object in it to the
-- owner. Where the roles were made beforehand (deploy/initdb) and the owner
-- runs it, it only checks them and grants.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jingfang_owner') THEN
        CREATE ROLE jingfang_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jingfang_app') THEN
        CREATE ROLE jingfang_app NOLOGIN;
    END IF;
    -- Refuse an app role that could escape the grants below.
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'jingfang_app'
                  AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls))
       OR pg_has_role('jingfang_app', 'jingfang_owner', 'MEMBER')
       OR pg_has_role('jingfang_app', 'pg_execute_server_program', 'MEMBER')
       OR pg_has_role('jingfang_app', 'pg_read_server_files', 'MEMBER')
       OR pg_has_role('jingfang_app', 'pg_write_server_files', 'MEMBER') THEN
        RAISE EXCEPTION 'role jingfang_app has more rights than the service needs'
            USING HINT = 'ALTER ROLE jingfang_app NOSUPERUSER NOCREATEROLE NOCREATEDB '
                         'NOREPLICATION NOBYPASSRLS, and revoke its role memberships';
    END IF;
END $$;

-- A superuser applying this: hand the database and what it holds to the owner.
DO $$
DECLARE
    o record;
BEGIN
    IF current_user = 'jingfang_owner' THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER DATABASE %I OWNER TO jingfang_owner', current_database());
    FOR o IN
        SELECT format('ALTER %s %s OWNER TO jingfang_owner',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' WHEN 'c' THEN 'TYPE'
                                     ELSE 'TABLE' END,
                      c.oid::regclass) AS cmd
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c')
           AND c.relowner <> 'jingfang_owner'::regrole
           -- Sequences of serial columns follow their table.
           AND NOT (c.relkind = 'S' AND EXISTS (
                   SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO jingfang_owner', p.oid::regprocedure)
          FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace
           AND p.proowner <> 'jingfang_owner'::regrole
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                              AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('ALTER %s %s OWNER TO jingfang_owner',
                      CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype)
          FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace
           AND t.typtype IN ('e', 'd', 'r')
           AND t.typowner <> 'jingfang_owner'::regrole
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                              AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE o.cmd;
    END LOOP;
END $$;

-- Nobody but the owner creates anything here; the app connects and may use
-- temporary tables (the 三网 analysis builds its working sets in them).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO jingfang_app;
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO jingfang_app', current_database());
END $$;

-- Rows: read, add and correct (nothing clinical is ever deleted). Tables
-- added later get the same by default; a migration that needs otherwise
-- says so next to its table.
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO jingfang_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO jingfang_app;
ALTER DEFAULT PRIVILEGES FOR ROLE jingfang_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE ON TABLES TO jingfang_app;
ALTER DEFAULT PRIVILEGES FOR ROLE jingfang_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO jingfang_app;
-- Functions: EXECUTE stays granted to PUBLIC by default (none of them is
-- SECURITY DEFINER but stat_refresh, below).

-- The only deletes the service makes: a login's failures once it succeeds,
-- and the staging rows of a 三网 run.
GRANT DELETE ON login_throttle, reconcile_rows TO jingfang_app;
-- Append-only: add and read, nothing else.
REVOKE UPDATE ON audit_log FROM jingfang_app;
-- Written by migrations only; stat_refresh_log by stat_refresh below.
REVOKE INSERT, UPDATE ON notification_kinds, stat_refresh_log, stat_unit_counts FROM jingfang_app;
REVOKE ALL ON schema_migrations FROM jingfang_app;

-- REFRESH MATERIALIZED VIEW needs the view's owner: the worker refreshes
-- the statistics cache through this function, which runs as the owner with
-- a search_path the caller cannot change (nothing the app creates can be
-- found before the schema's own objects).
ALTER FUNCTION stat_refresh() SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION stat_refresh() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stat_refresh() TO jingfang_app;
