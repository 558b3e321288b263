// What rendering one message may use. A template is a program: `{% set a = a + a %}` doubles a
// list per line and a macro calling itself twice doubles the work per level, so the interpreter
// counts and measures as it goes (template.ts) and stops the render with a BudgetExceeded.

export interface RenderLimits {
  /** nodes evaluated, loop iterations included */
  steps: number;
  /** evaluations inside one another: blocks, expressions, macro calls */
  depth: number;
  /** characters of a rendered subject or body */
  outputChars: number;
  /** characters any one value takes printed: a string's length; a list's or object's items, keys and punctuation */
  valueSize: number;
  /** lists and objects inside one another in a value */
  valueDepth: number;
  /** milliseconds one message may take */
  millis: number;
}

export const DEFAULT_RENDER_LIMITS: Readonly<RenderLimits> = {
  steps: 50_000,
  depth: 250,
  outputChars: 1_000_000,
  valueSize: 1_000_000,
  valueDepth: 64,
  millis: 100,
};

export const BUDGET_EXCEEDED = 'the template exceeded its render budget';

export class BudgetExceeded extends Error {
  constructor(what: string) {
    super(`${BUDGET_EXCEEDED}: ${what}`);
    this.name = 'BudgetExceeded';
  }
}

/** The engine's own limits, reached by a template nonetheless, count as the budget too. */
const ENGINE_LIMITS: [RegExp, string][] = [
  [/^Maximum call stack size exceeded/, 'nested too deeply for the stack'],
  [/^Invalid (string|array) length/, 'a value larger than the engine allows'],
];

/** The budget message for an error that is a budget overrun, else undefined. */
export function budgetMessage(error: unknown): string | undefined {
  if (error instanceof BudgetExceeded) return error.message;
  if (!(error instanceof RangeError)) return undefined;
  const limit = ENGINE_LIMITS.find(([pattern]) => pattern.test(error.message));
  return limit && new BudgetExceeded(limit[1]).message;
}

/** The library's runtime values, as far as measuring them goes. */
export interface MeasuredValue {
  type: string;
  value: unknown;
}

interface Measure {
  size: number;
  depth: number;
}

const IN_PROGRESS: Measure = { size: 0, depth: 0 };
const TIME_CHECK_EVERY = 256;

/** One message's budget: its interpreter reports each step, nesting and value to it. */
export class RenderBudget {
  private steps = 0;
  private depth = 0;
  private nextTimeCheck = TIME_CHECK_EVERY;
  private readonly deadline: number;
  // lists and objects never change once made, except namespaces (`{% set ns.x = … %}`): see forgetSizes
  private sizes = new WeakMap<object, Measure>();

  constructor(readonly limits: Readonly<RenderLimits>) {
    this.deadline = performance.now() + limits.millis;
  }

  /** One evaluation, or `count` loop iterations about to run. */
  step(count = 1): void {
    this.steps += count;
    if (this.steps > this.limits.steps) throw new BudgetExceeded(`more than ${this.limits.steps} steps`);
    if (this.steps < this.nextTimeCheck) return;
    this.nextTimeCheck = this.steps + TIME_CHECK_EVERY;
    if (performance.now() > this.deadline) throw new BudgetExceeded(`took more than ${this.limits.millis} ms`);
  }

  enter(): void {
    if (++this.depth > this.limits.depth) {
      throw new BudgetExceeded(`evaluation nested more than ${this.limits.depth} levels deep (a macro calling itself?)`);
    }
  }

  leave(): void {
    this.depth--;
  }

  /** Checks a value the template made or looked up: its printed size and its nesting. */
  check(value: MeasuredValue): void {
    if (value.type === 'StringValue') this.fits((value.value as string).length);
    else if (isComposite(value)) this.measure(value, 0);
  }

  /** The printed size of a value, checking it on the way. */
  sizeOf(value: MeasuredValue): number {
    return isComposite(value) ? this.measure(value, 0).size : leafSize(value);
  }

  /** Nesting depth of a value: 0 for a string or number. */
  depthOf(value: MeasuredValue): number {
    return isComposite(value) ? this.measure(value, 0).depth : 0;
  }

  /** Refuses making a value of `size` characters. */
  fits(size: number): void {
    if (size > this.limits.valueSize) throw new BudgetExceeded(`a value larger than ${this.limits.valueSize} characters`);
  }

  output(text: string): void {
    if (text.length > this.limits.outputChars) {
      throw new BudgetExceeded(`output longer than ${this.limits.outputChars} characters`);
    }
  }

  /** A namespace attribute changed, and with it the size of everything holding that namespace. */
  forgetSizes(): void {
    this.sizes = new WeakMap();
  }

  private measure(value: MeasuredValue, level: number): Measure {
    const known = this.sizes.get(value);
    if (known === IN_PROGRESS) throw new BudgetExceeded('a value that contains itself');
    if (known) return known;
    if (level > this.limits.valueDepth) this.tooDeep();
    this.sizes.set(value, IN_PROGRESS);
    // printed as JSON-like text: [a, b] and {"k": v}
    const measured = { size: 2, depth: 0 };
    if (value.value instanceof Map) {
      for (const [key, child] of value.value as Map<string, MeasuredValue>) this.add(measured, child, key.length + 6, level);
    } else {
      for (const child of value.value as MeasuredValue[]) this.add(measured, child, 2, level);
    }
    if (++measured.depth > this.limits.valueDepth) this.tooDeep();
    this.sizes.set(value, measured);
    return measured;
  }

  private add(measured: Measure, child: MeasuredValue, punctuation: number, level: number): void {
    if (isComposite(child)) {
      const inner = this.measure(child, level + 1);
      measured.size += inner.size + punctuation;
      measured.depth = Math.max(measured.depth, inner.depth);
    } else {
      measured.size += leafSize(child) + 2 + punctuation;
    }
    this.fits(measured.size);
  }

  private tooDeep(): never {
    throw new BudgetExceeded(`a value nested more than ${this.limits.valueDepth} levels deep`);
  }
}

function isComposite(value: MeasuredValue): boolean {
  return value.value instanceof Map || Array.isArray(value.value);
}

function leafSize({ value }: MeasuredValue): number {
  if (typeof value === 'string') return value.length;
  return typeof value === 'number' ? String(value).length : 5;
}
