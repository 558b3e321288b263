// Mailing templates: Jinja-style text rendered by @huggingface/jinja (a sandboxed interpreter over
// its own value types; templates never touch JavaScript objects). The recipient is `client`, and
// client.promocode('<group>') / client.last_promocode('<group>') place promo codes.

import * as jinja from '@huggingface/jinja';
import { attributeDepthProblem } from './attributes.js';
import { ValidationError } from './errors.js';
import { budgetMessage, DEFAULT_RENDER_LIMITS, RenderBudget, type RenderLimits } from './template-budget.js';
import { GUARDED_FILTERS, guardFilter, guardReplace } from './template-guards.js';
import { groupNameKey } from './group-name.js';
import {
  lineColumn,
  parseTemplate,
  TemplateSyntaxError,
  type Node,
  type ParsedTemplate,
  type Token,
  type Program,
} from './template-scan.js';

export interface TemplateSource {
  subject?: string | undefined;
  body: string;
}

/** Distinct group names (trimmed, first spelling wins), in order of first appearance. */
export interface TemplateGroups {
  initial: string[];
  repeat: string[];
}

/** line and column are 1-based */
export interface TemplateProblem {
  field: 'subject' | 'body';
  line: number;
  column: number;
  message: string;
}

export type TemplateCheck =
  | { valid: true; groups: TemplateGroups }
  | { valid: false; error: TemplateProblem; groups: TemplateGroups };

export interface RecipientContext {
  id: string;
  attributes: Record<string, unknown>;
}

/** Codes keyed by groupKey(name): the code reserved for the recipient (initial) and their last code (repeat). */
export interface CodeLookup {
  initial: ReadonlyMap<string, string>;
  repeat: ReadonlyMap<string, string | null>;
}

export interface RenderedMessage {
  subject: string | undefined;
  body: string;
  /**
   * Groups (named as in `groups`) whose macro was evaluated in this render; a branch not taken
   * does not count. `repeat` lists only groups that actually had a last code to show.
   */
  used: { initial: string[]; repeat: string[] };
}

export interface CompiledTemplate {
  groups: TemplateGroups;
  render(client: RecipientContext, codes: CodeLookup): RenderedMessage;
}

/**
 * The template failed on this recipient's data, e.g. `{{ client.age + 1 }}` without an age, or
 * the recipient's attributes cannot be rendered at all (field `attributes`).
 */
export class TemplateRenderError extends Error {
  readonly field: 'subject' | 'body' | 'attributes';
  /** the message without the field */
  readonly reason: string;
  constructor(field: 'subject' | 'body' | 'attributes', reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'TemplateRenderError';
    this.field = field;
    this.reason = reason;
  }
}

/** The render exceeded its budget (template-budget.ts): too many steps, too large a value, too long. */
export class TemplateBudgetError extends TemplateRenderError {
  declare readonly field: 'subject' | 'body';
  constructor(field: 'subject' | 'body', reason: string) {
    super(field, reason);
    this.name = 'TemplateBudgetError';
  }
}

/** How group names compare (src/domain/group-name.ts): the same rule as the database's `name_key`. */
export function groupKey(name: string): string {
  return groupNameKey(name);
}

type Kind = 'initial' | 'repeat';
type Field = 'subject' | 'body';
const MACROS = new Map<string, Kind>([
  ['promocode', 'initial'],
  ['last_promocode', 'repeat'],
]);

interface MacroCall {
  kind: Kind;
  name: string;
  /** groupKey(name) */
  key: string;
}

interface Analysis {
  program: Program;
  /** the client.promocode('…') call nodes, filled in at render without calling anything */
  calls: Map<object, MacroCall>;
  /** nodes in callee position: the only places a function value may be evaluated */
  callees: Set<object>;
  problem: TemplateSyntaxError | undefined;
}

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && typeof (value as Node).type === 'string';

/** Children in source order: the library stores `a if c else b` and `{% call(x) m() %}` out of order. */
function children(node: Node): unknown[] {
  if (node.type === 'Ternary') return [node.trueExpr, node.condition, node.falseExpr];
  if (node.type === 'CallStatement') return [node.callerArgs, node.call, node.body];
  return Object.values(node);
}

/** Post-order, so a member access `x.y` is met after everything in `x`: in the order of its dot. */
function walk(value: unknown, visit: (node: Node, parent: Node | undefined) => void, parent?: Node): void {
  if (Array.isArray(value)) for (const item of value) walk(item, visit, parent);
  else if (value instanceof Map) for (const entry of value) walk(entry, visit, parent);
  else if (isNode(value)) {
    for (const child of children(value)) walk(child, visit, value);
    visit(value, parent);
  }
}

/** Finds the macros by walking the syntax tree; the first misuse (in source order) is the problem. */
function analyse(source: string): Analysis {
  const parsed = parseTemplate(source);
  const positions = macroPositions(parsed);
  const calls = new Map<object, MacroCall>();
  const callees = new Set<object>();
  let problem: TemplateSyntaxError | undefined;
  let seen = 0;
  walk(parsed.program, (node, parent) => {
    if (node.type === 'CallExpression' && isNode(node.callee)) callees.add(node.callee);
    const property = node.property;
    if (node.type !== 'MemberExpression' || node.computed || !isNode(property) || property.type !== 'Identifier') return;
    const macro = String(property.value);
    const kind = MACROS.get(macro);
    if (!kind) return;
    const at = positions[seen++] ?? 0;
    const call = parent?.type === 'CallExpression' && parent.callee === node ? parent : undefined;
    const object = node.object;
    const fail = (message: string): void => {
      problem ??= new TemplateSyntaxError(at, message);
    };
    const usage = `write client.${macro}('<group name>')`;
    if (!isNode(object) || object.type !== 'Identifier' || object.value !== 'client') {
      return fail(`${macro}(...) only exists on client: ${usage}`);
    }
    if (!call) return fail(`client.${macro} must be called with a group name: ${usage}`);
    const args = call.args as Node[];
    if (args.length !== 1) {
      return fail(`client.${macro}(...) takes exactly one argument, the group name in quotes; got ${args.length}`);
    }
    const arg = args[0] as Node;
    if (arg.type !== 'StringLiteral') {
      return fail(`the group name in client.${macro}(...) must be a quoted string, not an expression: ${usage}`);
    }
    const name = String(arg.value).trim();
    if (name === '') return fail(`the group name in client.${macro}(...) is empty`);
    calls.set(call, { kind, name, key: groupKey(name) });
  });
  return { program: parsed.program, calls, callees, problem };
}

/**
 * Source offsets of the `.promocode` / `.last_promocode` member accesses, in source order (at
 * `client` when that is the object). A Dot token is only ever parsed as a member access, so the
 * k-th such token pair is the k-th such MemberExpression met in a source-order walk.
 */
function macroPositions({ tokens, starts }: ParsedTemplate): number[] {
  const positions: number[] = [];
  tokens.forEach((token, i) => {
    const name = tokens[i + 1];
    if (token.type !== 'Dot' || name?.type !== 'Identifier' || !MACROS.has(name.value)) return;
    const object = tokens[i - 1];
    const onClient = object?.type === 'Identifier' && object.value === 'client';
    positions.push(starts[onClient ? i - 1 : i + 1] ?? 0);
  });
  return positions;
}

function fieldsOf(template: TemplateSource): [Field, string][] {
  const fields: [Field, string][] = [['body', template.body]];
  if (template.subject !== undefined) fields.unshift(['subject', template.subject]);
  return fields;
}

interface FieldResult {
  field: Field;
  analysis: Analysis | undefined;
  problem: TemplateProblem | undefined;
}

function analyseFields(template: TemplateSource): FieldResult[] {
  return fieldsOf(template).map(([field, source]) => {
    let analysis: Analysis | undefined;
    let error: TemplateSyntaxError | undefined;
    try {
      analysis = analyse(source);
      error = analysis.problem;
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      error = err;
    }
    const problem = error && { field, ...lineColumn(source, error.offset), message: error.message };
    return { field, analysis, problem };
  });
}

function collectGroups(results: FieldResult[]): TemplateGroups {
  const groups: TemplateGroups = { initial: [], repeat: [] };
  const seen = { initial: new Set<string>(), repeat: new Set<string>() };
  for (const { analysis } of results) {
    for (const { kind, name, key } of analysis?.calls.values() ?? []) {
      if (seen[kind].has(key)) continue;
      seen[kind].add(key);
      groups[kind].push(name);
    }
  }
  return groups;
}

/** Parses subject and body, and finds the groups named by promocode(...) / last_promocode(...) statically. */
export function checkTemplate(template: TemplateSource): TemplateCheck {
  const results = analyseFields(template);
  const groups = collectGroups(results);
  const error = results.find((r) => r.problem)?.problem;
  return error ? { valid: false, error, groups } : { valid: true, groups };
}

// The library's runtime, typed by hand (see template-scan.ts for why).
interface RuntimeValue {
  type: string;
  value: unknown;
}
interface Environment {
  set(name: string, value: unknown): RuntimeValue;
  setVariable(name: string, value: RuntimeValue): RuntimeValue;
}
type Arguments = [RuntimeValue[], Map<string, RuntimeValue>];
interface Interpreter {
  evaluate(node: object | undefined, environment: Environment): RuntimeValue;
  // internals, overridden or called to keep renders within their budget
  applyFilter(operand: RuntimeValue, filter: Node, environment: Environment): RuntimeValue;
  evaluateArguments(args: unknown, environment: Environment): Arguments;
}
type NativeFunction = (args: RuntimeValue[], scope: Environment) => RuntimeValue;
const Environment = jinja.Environment as new (parent?: Environment) => Environment;
const Interpreter = jinja.Interpreter as new (global: Environment) => Interpreter;
// The value classes are not exported; take them from values the library made.
const StringValue = new Environment().set('probe', '').constructor as new (value: string) => RuntimeValue;
const FunctionValue = new Environment().set('probe', () => undefined).constructor as new (value: NativeFunction) => RuntimeValue;

// Shared, never written: each render evaluates in a child scope.
const GLOBALS = new Environment();
const CONSTANTS = { true: true, false: false, none: null, True: true, False: false, None: null };
for (const [name, value] of Object.entries(CONSTANTS)) GLOBALS.set(name, value);

/** A node standing for a value evaluated already, so the library does not evaluate its expression again. */
interface Evaluated {
  type: 'Evaluated';
  value: RuntimeValue;
}
const evaluated = (value: RuntimeValue): Evaluated => ({ type: 'Evaluated', value });
const isEvaluated = (node: object | undefined): node is Evaluated => (node as Evaluated | undefined)?.type === 'Evaluated';

/** Argument nodes that evaluate to these arguments. */
function evaluatedArguments([args, kwargs]: Arguments): object[] {
  const keywords = [...kwargs].map(([key, value]) => ({
    type: 'KeywordArgumentExpression',
    key: { type: 'Identifier', value: key },
    value: evaluated(value),
  }));
  return [...args.map(evaluated), ...keywords];
}

// An iteration costs the library about ten times an evaluation (a scope, a `loop` object, ...),
// all of them set up before the body first runs.
const STEPS_PER_ITERATION = 10;

// The library's internals (evaluateFor, evaluateBlock, ...) are plain methods too: the names of
// the methods added here must not collide with theirs.
class MailingInterpreter extends Interpreter {
  readonly usedKeys = { initial: new Set<string>(), repeat: new Set<string>() };
  readonly budget: RenderBudget;

  constructor(
    private readonly macroCalls: ReadonlyMap<object, MacroCall>,
    private readonly calleeNodes: ReadonlySet<object>,
    private readonly codes: CodeLookup,
    limits: RenderLimits,
  ) {
    super(GLOBALS);
    this.budget = new RenderBudget(limits);
  }

  override evaluate(node: object | undefined, environment: Environment): RuntimeValue {
    if (isEvaluated(node)) return node.value;
    this.budget.step();
    this.budget.enter();
    try {
      const value = this.evaluateWithin(node, environment);
      // Printed or concatenated, a function value would show its JavaScript source.
      if (value.type === 'FunctionValue' && !(node && this.calleeNodes.has(node))) {
        throw new Error('a function can only be called, not used as a value');
      }
      this.budget.check(value);
      return value;
    } finally {
      this.budget.leave();
    }
  }

  /** Checks what a filter would make before the library makes it. */
  override applyFilter(operand: RuntimeValue, filter: Node, environment: Environment): RuntimeValue {
    // e.g. the rendered body of a {% filter %} block, which no evaluate returned
    this.budget.check(operand);
    if (filter.type !== 'CallExpression') {
      guardFilter(this.budget, String(filter.value), operand, [[], new Map()]);
      return super.applyFilter(operand, filter, environment);
    }
    const name = String((filter.callee as Node).value);
    if (!GUARDED_FILTERS.has(name)) return super.applyFilter(operand, filter, environment);
    const args = this.evaluateArguments(filter.args, environment);
    guardFilter(this.budget, name, operand, args);
    return super.applyFilter(operand, { ...filter, args: evaluatedArguments(args) }, environment);
  }

  private evaluateWithin(node: object | undefined, environment: Environment): RuntimeValue {
    const macro = node && this.macroCalls.get(node);
    if (macro) return new StringValue(this.fill(macro));
    if (!isNode(node)) return super.evaluate(node, environment);
    if (node.type === 'StringLiteral') return stringLiteral(node);
    if (isConcatenation(node)) return new StringValue(this.text(node.left, environment) + this.text(node.right, environment));
    if (node.type === 'For') return this.loop(node, environment);
    if (isReplaceMethod(node) && this.calleeNodes.has(node)) return this.replaceMethod(node, environment);
    const value = super.evaluate(node, environment);
    if (node.type === 'Set' && (node.assignee as Node).type === 'MemberExpression') this.budget.forgetSizes();
    return value;
  }

  /** As in Jinja, `~` turns a missing attribute into '' (the library would fail). */
  private text(node: unknown, environment: Environment): string {
    const value = this.evaluate(node as object, environment);
    return value.type === 'UndefinedValue' || value.type === 'NullValue' ? '' : String(value);
  }

  /** A for loop, its iterations charged before the library sets up a scope and a `loop` object for each. */
  private loop(node: Node, environment: Environment): RuntimeValue {
    const select = node.iterable as Node;
    const source = select.type === 'SelectExpression' ? (select.lhs as Node) : select;
    const items = this.evaluate(source, environment);
    if (Array.isArray(items.value)) this.budget.step(items.value.length * STEPS_PER_ITERATION);
    else if (items.value instanceof Map) this.budget.step(items.value.size * STEPS_PER_ITERATION);
    const iterable = source === select ? evaluated(items) : { ...select, lhs: evaluated(items) };
    return super.evaluate({ ...node, iterable }, environment);
  }

  /** `text.replace(a, b)`, checked before it runs: replacing '' inserts between every character. */
  private replaceMethod(node: Node, environment: Environment): RuntimeValue {
    const receiver = this.evaluate(node.object as Node, environment);
    const method = super.evaluate({ ...node, object: evaluated(receiver) }, environment);
    if (receiver.type !== 'StringValue' || method.type !== 'FunctionValue') return method;
    const replace = method.value as NativeFunction;
    return new FunctionValue((args, scope) => {
      guardReplace(this.budget, receiver.value as string, args);
      return replace(args, scope);
    });
  }

  private fill({ kind, name, key }: MacroCall): string {
    if (kind === 'initial') {
      const code = this.codes.initial.get(key);
      if (code === undefined) throw new MissingCodeError(`no code was reserved for the group "${name}"`);
      this.usedKeys.initial.add(key);
      return code;
    }
    const code = this.codes.repeat.get(key);
    if (code == null) return '';
    this.usedKeys.repeat.add(key);
    return code;
  }
}

// Made once per literal, for every render: a value is never changed, and making one costs
// about a microsecond (each instance defines the library's class fields anew).
const literals = new WeakMap<Node, RuntimeValue>();
function stringLiteral(node: Node): RuntimeValue {
  let value = literals.get(node);
  if (!value) literals.set(node, (value = new StringValue(String(node.value))));
  return value;
}

function isConcatenation(node: Node): boolean {
  return node.type === 'BinaryExpression' && (node.operator as Token).value === '~';
}

function isReplaceMethod(node: Node): boolean {
  return node.type === 'MemberExpression' && !node.computed && (node.property as Node).value === 'replace';
}

/** The caller reserves a code for every group the template names, so a missing one is a bug. */
class MissingCodeError extends Error {}

/**
 * Attribute values as plain data (JSON-like), so nothing callable can reach the template. The
 * recursion is safe: attributes nested too deeply are refused first (clientOf).
 */
function toData(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toData);
  if (typeof value === 'object') return dataObject(Object.entries(value));
  return undefined;
}

function dataObject(entries: [string, unknown][]): Record<string, unknown> {
  const object = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of entries) object[key] = toData(value);
  return object;
}

/** The 400 for a template with these problems: one error per field, naming line and column. */
export function invalidTemplate(problems: readonly TemplateProblem[]): ValidationError {
  const errors = problems.map(({ field, line, column, message }) => ({ path: `template.${field}`, message: `line ${line}, column ${column}: ${message}` }));
  const summary = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return new ValidationError(`The template is invalid: ${summary}`, errors);
}

/** The recipient as the template's `client`. */
function clientOf(recipient: RecipientContext): Record<string, unknown> {
  const tooDeep = attributeDepthProblem(recipient.attributes);
  if (tooDeep) throw new TemplateRenderError('attributes', tooDeep);
  const client = dataObject(Object.entries(recipient.attributes).filter(([key]) => !MACROS.has(key)));
  client.id = recipient.id;
  return client;
}

/** Compiles subject and body; each render is held to `limits` (template-budget.ts). */
export function compileTemplate(template: TemplateSource, limits: Readonly<RenderLimits> = DEFAULT_RENDER_LIMITS): CompiledTemplate {
  const results = analyseFields(template);
  const problems = results.flatMap(({ problem }) => (problem ? [problem] : []));
  if (problems.length > 0) throw invalidTemplate(problems);
  const analyses = new Map(results.map((r) => [r.field, r.analysis as Analysis]));
  const calls = new Map([...analyses.values()].flatMap((a) => [...a.calls]));
  const callees = new Set([...analyses.values()].flatMap((a) => [...a.callees]));
  const groups = collectGroups(results);
  const keyed = (kind: Kind) => groups[kind].map((name) => [name, groupKey(name)] as const);
  const groupKeys = { initial: keyed('initial'), repeat: keyed('repeat') };

  return {
    groups,
    render(recipient, codes) {
      const data = clientOf(recipient);
      // converted in the first field's scope and shared with the second: a template cannot change it (only a namespace takes `set`)
      let client: RuntimeValue | undefined;
      const interpreter = new MailingInterpreter(calls, callees, codes, limits);
      const renderField = (field: Field): string | undefined => {
        const analysis = analyses.get(field);
        if (!analysis) return undefined;
        const scope = new Environment(GLOBALS);
        if (client) scope.setVariable('client', client);
        else client = scope.set('client', data);
        try {
          const text = String(interpreter.evaluate(analysis.program, scope).value);
          interpreter.budget.output(text);
          return text;
        } catch (err) {
          if (err instanceof MissingCodeError) throw err;
          const overBudget = budgetMessage(err);
          if (overBudget) throw new TemplateBudgetError(field, overBudget);
          throw new TemplateRenderError(field, err instanceof Error ? err.message : String(err));
        }
      };
      const subject = renderField('subject');
      const body = renderField('body') as string;
      const used = (kind: Kind): string[] => groupKeys[kind].filter(([, key]) => interpreter.usedKeys[kind].has(key)).map(([name]) => name);
      return { subject, body, used: { initial: used('initial'), repeat: used('repeat') } };
    },
  };
}
