/**
 * Collects a label column while a file streams by. Numeric labels stay numbers (regression targets,
 * or classes already coded 0..C-1). Text labels ("setosa", "spam") are coded 0..C-1 in sorted
 * order (by UTF-16 code units, so the coding does not depend on the locale), and the names are kept.
 *
 * @example
 * const labels = new LabelCollector();
 * labels.addText('b'); labels.addText('a');
 * labels.finish(); // { y: [1, 0], labelNames: ['a', 'b'] }
 */
import { DataError } from '../core/errors.js';
import { GrowableArray } from './growable.js';

export interface EncodedLabels {
  y: Float64Array;
  labelNames: string[] | null;
}

export class LabelCollector {
  private numeric: GrowableArray | null = new GrowableArray('float64');
  private codes: GrowableArray | null = null;
  private readonly ids = new Map<string, number>();
  private readonly tokens: string[] = [];

  /** `classes` fixes the coding (class i is code i); a label outside it is refused by `add`. */
  constructor(private readonly classes: readonly string[] | null = null) {
    if (classes !== null) {
      this.numeric = null;
      this.codes = new GrowableArray('float64');
      classes.forEach((name, i) => this.ids.set(name, i));
    }
  }

  get length(): number {
    return this.numeric !== null ? this.numeric.length : this.codes!.length;
  }

  /** True once any label was text (or classes were given). */
  get textual(): boolean {
    return this.numeric === null;
  }

  /** Add a numeric label (named by its shortest decimal form if the column turns out textual). */
  addNumber(value: number): boolean {
    if (this.numeric !== null) {
      this.numeric.push(value);
      return true;
    }
    return this.addText(String(value));
  }

  /** Add a text label. Returns false when `classes` were given and the label is not among them. */
  addText(text: string): boolean {
    if (this.numeric !== null) this.switchToText();
    let id = this.ids.get(text);
    if (id === undefined) {
      if (this.classes !== null) return false;
      id = this.tokens.length;
      this.tokens.push(text);
      this.ids.set(text, id);
    }
    this.codes!.push(id);
    return true;
  }

  truncate(length: number): void {
    (this.numeric ?? this.codes!).truncate(length);
  }

  /** The distinct text labels seen (first-seen order). */
  distinct(): string[] {
    return this.classes !== null ? [...this.classes] : [...this.tokens];
  }

  /**
   * The coded labels. `allClasses` (sorted, a superset of what was seen) codes text labels against
   * a list gathered from the whole file, so every shard of it agrees on the coding. A label seen
   * here but missing from `allClasses` is an error naming `source` (never a silent code −1: a
   * classifier would count it as a class of its own).
   */
  finish(allClasses: readonly string[] | null = null, source?: string): EncodedLabels {
    if (this.numeric !== null) return { y: this.numeric.finish('heap') as Float64Array, labelNames: null };
    const codes = this.codes!.finish('heap') as Float64Array;
    if (this.classes !== null) return { y: codes, labelNames: [...this.classes] };
    const names = allClasses === null ? [...this.tokens].sort(compareText) : [...allClasses];
    const position = new Map(names.map((name, i) => [name, i]));
    const remap = this.tokens.map((token) => {
      const code = position.get(token);
      if (code === undefined) {
        throw new DataError(
          'DATA_VALUE',
          { file: source },
          `expected a label among the ${names.length} classes found in the whole file (${names
            .slice(0, 10)
            .map((n) => JSON.stringify(n))
            .join(
              ', ',
            )}${names.length > 10 ? ', …' : ''}), found ${JSON.stringify(token)} in this shard; the shards disagree on the file's contents (was it changed while loading?)`,
        );
      }
      return code;
    });
    for (let i = 0; i < codes.length; i++) codes[i] = remap[codes[i]!]!;
    return { y: codes, labelNames: names };
  }

  private switchToText(): void {
    const previous = this.numeric!;
    this.numeric = null;
    this.codes = new GrowableArray('float64', previous.length + 16);
    const values = previous.buffer;
    for (let i = 0; i < previous.length; i++) {
      // Earlier numeric labels join the text coding by their shortest decimal form ("1.0" → "1").
      const text = String(values[i]);
      let id = this.ids.get(text);
      if (id === undefined) {
        id = this.tokens.length;
        this.tokens.push(text);
        this.ids.set(text, id);
      }
      this.codes.push(id);
    }
  }
}

/** Order text by UTF-16 code units (locale-independent, so every machine codes labels the same). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
