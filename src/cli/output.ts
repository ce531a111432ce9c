/**
 * Where a command's lines go. Calling the output prints a human line (progress, summaries), which
 * `--quiet` silences; `data` prints what a script consumes (the `--json` object, `runs` listings and
 * exports), which `--quiet` keeps. Errors go to stderr through failure.ts and are never silenced.
 *
 * @example
 * out(`kmeans: trained on ${rows} rows`);   // not under --quiet
 * out.data(JSON.stringify(report));        // always
 */
export interface Output {
  (line: string): void;
  data(line: string): void;
  readonly quiet: boolean;
}

export function createOutput(write: (line: string) => void, quiet: boolean): Output {
  const out = ((line: string): void => {
    if (!quiet) write(line);
  }) as Output & { data: (line: string) => void; quiet: boolean };
  out.data = write;
  out.quiet = quiet;
  return out;
}
