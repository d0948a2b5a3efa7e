-- The accounts of the stack's clients of this database, run at every database start by mcp-role;
-- passwords come from the secret files (psql reads them; they are on no command line).
-- The MCP server's role, mcp_server: its privileges on this database's public schema: SELECT,
-- and with DB_MCP_ACCESS=write also INSERT, UPDATE and DELETE.
\set password `cat /run/secrets/postgres_mcp_password`
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mcp_server') AS missing \gset
\if :missing
CREATE ROLE mcp_server LOGIN;
\endif
ALTER ROLE mcp_server WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT 20 PASSWORD :'password';
GRANT CONNECT ON DATABASE :"DBNAME" TO mcp_server;
GRANT USAGE ON SCHEMA public TO mcp_server;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM mcp_server;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO mcp_server;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO mcp_server;
ALTER DEFAULT PRIVILEGES FOR ROLE :"USER" IN SCHEMA public GRANT SELECT ON TABLES TO mcp_server;
SELECT :'access' = 'write' AS writable \gset
\if :writable
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO mcp_server;
GRANT USAGE, UPDATE ON ALL SEQUENCES IN SCHEMA public TO mcp_server;
ALTER DEFAULT PRIVILEGES FOR ROLE :"USER" IN SCHEMA public
  GRANT INSERT, UPDATE, DELETE ON TABLES TO mcp_server;
ALTER ROLE mcp_server SET default_transaction_read_only = off;
\else
ALTER DEFAULT PRIVILEGES FOR ROLE :"USER" IN SCHEMA public
  REVOKE INSERT, UPDATE, DELETE ON TABLES FROM mcp_server;
ALTER ROLE mcp_server SET default_transaction_read_only = on;
\endif
-- The exporter's role, mcp_monitor: pg_monitor (statistics, settings and activity, no table
-- data), read-only, at most 3 connections.
\set monitor_password `cat /run/secrets/postgres_monitor_password`
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mcp_monitor') AS monitor_missing \gset
\if :monitor_missing
CREATE ROLE mcp_monitor LOGIN;
\endif
ALTER ROLE mcp_monitor WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT 3 PASSWORD :'monitor_password';
GRANT pg_monitor TO mcp_monitor;
ALTER ROLE mcp_monitor SET default_transaction_read_only = on;
