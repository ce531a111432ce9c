/**
 * What a measurement ran on and with: the code version (package version and git commit) and the
 * host (CPUs, memory, Node). Stored with every run, because a speedup means nothing without them.
 *
 * @example
 * const { packageVersion, gitCommit } = codeVersion();  // { '0.1.0', '62d897e…' | 'unknown' }
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CodeVersion {
  packageVersion: string;
  /** `git rev-parse HEAD` of the checkout the code runs from, or 'unknown' (installed package, no git). */
  gitCommit: string;
}

export interface HostInfo {
  hostname: string;
  platform: string;
  release: string;
  cpuModel: string;
  cpus: number;
  totalMemoryBytes: number;
  nodeVersion: string;
}

function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'shardlearn') return dir;
      } catch {
        // an unreadable package.json on the way up is not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

let cached: CodeVersion | null = null;

export function codeVersion(): CodeVersion {
  if (cached !== null) return cached;
  const root = packageRoot();
  let packageVersion = 'unknown';
  let gitCommit = 'unknown';
  if (root !== null) {
    packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    try {
      gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim();
    } catch {
      // not a git checkout (an installed package) or no git: the version says 'unknown', as promised
    }
  }
  cached = { packageVersion, gitCommit };
  return cached;
}

export function hostInfo(): HostInfo {
  const list = cpus();
  return {
    hostname: hostname(),
    platform: platform(),
    release: release(),
    cpuModel: list[0]?.model ?? 'unknown',
    cpus: list.length,
    totalMemoryBytes: totalmem(),
    nodeVersion: process.version,
  };
}
