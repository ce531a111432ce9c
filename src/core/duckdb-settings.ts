/**
 * The DuckDB settings of every instance shardlearn opens (the results store, the study store, the
 * Parquet reader): no extension is installed or loaded behind our back — autoinstall would fetch
 * from extensions.duckdb.org (a path DuckDB reads as a URL would pull in httpfs), autoload would run
 * a binary found on disk. What we use (Parquet, JSON) is built in.
 *
 * @example
 * const instance = await DuckDBInstance.create(path, { ...DUCKDB_SETTINGS });
 */
export const DUCKDB_SETTINGS: Readonly<Record<string, string>> = {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
};
