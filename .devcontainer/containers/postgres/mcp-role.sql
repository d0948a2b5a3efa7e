-- The MCP server's role, mcp_server: its password from the secret file (psql reads it; it is on
-- no command line) and its privileges on this database's public schema: SELECT, and with
-- DB_MCP_ACCESS=write also INSERT, UPDATE and DELETE. Run at every database start by mcp-role.
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
