// Mailing templates: Jinja-style text rendered by @huggingface/jinja (a sandboxed interpreter over
// its own value types; templates never touch JavaScript objects). The recipient is `client`, and
// client.promocode('<group>') / client.last_promocode('<group>') place promo codes.

import * as jinja from '@huggingface/jinja';
import { ValidationError } from './errors.js';
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

/** The template failed on this recipient's data, e.g. `{{ client.age + 1 }}` without an age. */
export class TemplateRenderError extends Error {
  readonly field: 'subject' | 'body';
  constructor(field: 'subject' | 'body', message: string) {
    super(`${field}: ${message}`);
    this.name = 'TemplateRenderError';
    this.field = field;
  }
}

export function groupKey(name: string): string {
  return name.trim().toLowerCase();
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
    calls.set(call, { kind, name });
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
    for (const { kind, name } of analysis?.calls.values() ?? []) {
      if (seen[kind].has(groupKey(name))) continue;
      seen[kind].add(groupKey(name));
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
}
interface Interpreter {
  evaluate(node: object | undefined, environment: Environment): RuntimeValue;
}
const Environment = jinja.Environment as new (parent?: Environment) => Environment;
const Interpreter = jinja.Interpreter as new (global: Environment) => Interpreter;
// The value classes are not exported; take StringValue from a value the library made.
const StringValue = new Environment().set('probe', '').constructor as new (value: string) => RuntimeValue;

// Shared, never written: each render evaluates in a child scope.
const GLOBALS = new Environment();
const CONSTANTS = { true: true, false: false, none: null, True: true, False: false, None: null };
for (const [name, value] of Object.entries(CONSTANTS)) GLOBALS.set(name, value);

class MailingInterpreter extends Interpreter {
  readonly usedKeys = { initial: new Set<string>(), repeat: new Set<string>() };

  constructor(
    private readonly macroCalls: ReadonlyMap<object, MacroCall>,
    private readonly calleeNodes: ReadonlySet<object>,
    private readonly codes: CodeLookup,
  ) {
    super(GLOBALS);
  }

  override evaluate(node: object | undefined, environment: Environment): RuntimeValue {
    const macro = node && this.macroCalls.get(node);
    if (macro) return new StringValue(this.fill(macro));
    if (isConcatenation(node)) {
      return new StringValue(this.text(node.left, environment) + this.text(node.right, environment));
    }
    const value = super.evaluate(node, environment);
    // Printed or concatenated, a function value would show its JavaScript source.
    if (value.type === 'FunctionValue' && !(node && this.calleeNodes.has(node))) {
      throw new Error('a function can only be called, not used as a value');
    }
    return value;
  }

  /** As in Jinja, `~` turns a missing attribute into '' (the library would fail). */
  private text(node: unknown, environment: Environment): string {
    const value = this.evaluate(node as object, environment);
    return value.type === 'UndefinedValue' || value.type === 'NullValue' ? '' : String(value);
  }

  private fill({ kind, name }: MacroCall): string {
    const key = groupKey(name);
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

function isConcatenation(node: object | undefined): node is Node {
  return isNode(node) && node.type === 'BinaryExpression' && (node.operator as Token).value === '~';
}

/** The caller reserves a code for every group the template names, so a missing one is a bug. */
class MissingCodeError extends Error {}

/** Attribute values as plain data (JSON-like), so nothing callable can reach the template. */
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

export function compileTemplate(template: TemplateSource): CompiledTemplate {
  const results = analyseFields(template);
  const errors = results.flatMap(({ field, problem }) =>
    problem ? [{ path: `template.${field}`, message: `line ${problem.line}, column ${problem.column}: ${problem.message}` }] : [],
  );
  if (errors.length > 0) {
    const summary = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    throw new ValidationError(`The template is invalid: ${summary}`, errors);
  }
  const analyses = new Map(results.map((r) => [r.field, r.analysis as Analysis]));
  const calls = new Map([...analyses.values()].flatMap((a) => [...a.calls]));
  const callees = new Set([...analyses.values()].flatMap((a) => [...a.callees]));
  const groups = collectGroups(results);

  return {
    groups,
    render(recipient, codes) {
      const interpreter = new MailingInterpreter(calls, callees, codes);
      const client = dataObject(Object.entries(recipient.attributes).filter(([key]) => !MACROS.has(key)));
      client.id = recipient.id;
      const renderField = (field: Field): string | undefined => {
        const analysis = analyses.get(field);
        if (!analysis) return undefined;
        const scope = new Environment(GLOBALS);
        scope.set('client', client);
        try {
          return String(interpreter.evaluate(analysis.program, scope).value);
        } catch (err) {
          if (err instanceof MissingCodeError) throw err;
          throw new TemplateRenderError(field, err instanceof Error ? err.message : String(err));
        }
      };
      const subject = renderField('subject');
      const body = renderField('body') as string;
      const used = (kind: Kind): string[] =>
        groups[kind].filter((name) => interpreter.usedKeys[kind].has(groupKey(name)));
      return { subject, body, used: { initial: used('initial'), repeat: used('repeat') } };
    },
  };
}
