// A tiny real comparison (two models, ~3000 synthetic rows) shared by the report tests.
import { parseMatrix } from '../../src/compare/matrix.js';

export const tinyMatrix = (paradigms: string[], repeats = 2): ReturnType<typeof parseMatrix> =>
  parseMatrix({
    name: 'tiny',
    models: [
      { name: 'logistic-regression', params: { solver: 'sgd', epochs: 3 }, data: ['synthetic:classification?rows=3000&cols=5&seed=1'] },
      { name: 'kmeans', params: { k: 3 }, data: ['synthetic:blobs?rows=3000&cols=5&centers=3&seed=1'] },
    ],
    paradigms,
    workers: [2],
    strategies: ['allreduce'],
    repeats,
    target: { loss: 10 },
  });

/** Every http(s) URL in the page except SVG namespace declarations (identifiers, never fetched). */
export function externalUrls(html: string): string[] {
  return [...html.replace(/xmlns(:\w+)?="[^"]*"/g, '').matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]);
}
