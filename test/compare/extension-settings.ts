// What DuckDB runs with inside a store: its connection is private, so the tests read the settings
// through it, as a query, rather than trusting the options the store passed.

/** The store's DuckDB settings for extension auto-install and auto-load (false and false expected). */
export async function extensionSettingsOf(store: object): Promise<Record<string, unknown>[]> {
  const connection = (store as { connection?: { runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }> } })
    .connection;
  if (connection === undefined) throw new Error('the store has no DuckDB connection to read settings from');
  const result = await connection.runAndReadAll(
    `SELECT current_setting('autoinstall_known_extensions') AS install, current_setting('autoload_known_extensions') AS load`,
  );
  return result.getRowObjectsJS();
}
