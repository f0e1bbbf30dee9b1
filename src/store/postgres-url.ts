// The --postgres-url a user gives, checked before connecting: errors say what to pass, and what is
// printed about the database never includes the password.

export const POSTGRES_URL_EXAMPLE = "postgres://user:password@host:5432/database";

/** Where the URL points (user@host:port/database), for messages and the start-up banner; throws when it is missing or not a PostgreSQL URL. */
export function describePostgresUrl(url: string | undefined): string {
  if (!url) throw new Error(`--store postgres needs the database's address: pass --postgres-url ${POSTGRES_URL_EXAMPLE} (or set DTS_POSTGRES_URL)`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--postgres-url is not a URL; pass one like ${POSTGRES_URL_EXAMPLE} (libpq options such as sslmode go in its query string)`);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`--postgres-url must start with postgres:// or postgresql://, not ${u.protocol}//; pass one like ${POSTGRES_URL_EXAMPLE}`);
  }
  const user = u.username ? `${decodeURIComponent(u.username)}@` : "";
  return `${user}${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname.length > 1 ? u.pathname : "/"}`;
}
