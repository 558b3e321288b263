// Parsing mailing templates with positions. @huggingface/jinja's tokens and syntax tree carry no
// source positions, so this module lexes the source again the way the library's lexer does (no
// trim_blocks / lstrip_blocks), recording where each token starts, and uses that to place errors.

import * as jinja from '@huggingface/jinja';

// The package's .d.ts files use extensionless imports that NodeNext cannot resolve, so its exports
// arrive untyped; these are the shapes relied on here.
export interface Token {
  type: string;
  value: string;
}
/** A syntax tree node: plain objects tagged by `type` (Program, If, CallExpression, ...). */
export interface Node {
  type: string;
  [field: string]: unknown;
}
export type Program = Node & { type: 'Program' };
const tokenize = jinja.tokenize as (source: string) => Token[];
const parse = jinja.parse as (tokens: Token[]) => Program;

export class TemplateSyntaxError extends Error {
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
    this.offset = offset;
  }
}

export interface ParsedTemplate {
  program: Program;
  tokens: readonly Token[];
  /** source offset of each token */
  starts: readonly number[];
}

export interface LocatedToken extends Token {
  start: number;
}

/** 1-based line and column (in UTF-16 units) of an offset. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

// The library silently drops this transformers-specific tag (which would also shift positions).
const GENERATION_TAG = /{%-?\s*(?:end)?generation\s*-?%}/;

/** Tokenizes and parses like the library, throwing TemplateSyntaxError with the offending offset. */
export function parseTemplate(source: string): ParsedTemplate {
  const generation = GENERATION_TAG.exec(source);
  if (generation) throw new TemplateSyntaxError(generation.index, 'unknown tag "generation"');
  const located = locateTokens(source);
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (err) {
    throw new TemplateSyntaxError(0, lowerFirst(messageOf(err)));
  }
  // Both lexers should agree token for token; if they ever don't, errors point at the start.
  const aligned =
    tokens.length === located.length &&
    tokens.every((t, i) => t.type === located[i]?.type && t.value === located[i]?.value);
  const starts = aligned ? located.map((t) => t.start) : tokens.map(() => 0);

  try {
    return { program: parse(tokens), tokens, starts };
  } catch {
    throw locateParseError(source, tokens, starts, located);
  }
}

/** The parser throws without saying where; parse again, watching the last token it looks at. */
function locateParseError(
  source: string,
  tokens: Token[],
  starts: readonly number[],
  located: LocatedToken[],
): TemplateSyntaxError {
  let lastRead = 0;
  const watched = new Proxy(tokens, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) lastRead = Number(property);
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  try {
    parse(watched);
  } catch (err) {
    if (lastRead >= tokens.length) return endOfTemplate(source, located);
    const token = tokens[lastRead] as Token;
    return new TemplateSyntaxError(starts[lastRead] ?? 0, parseMessage(messageOf(err), token));
  }
  return new TemplateSyntaxError(0, 'the template could not be parsed');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

const EXPECTED: [RegExp, string][] = [
  [/closing expression/, '"}}"'],
  [/closing statement|%}/, '"%}"'],
  [/closing parenthesis/, '")"'],
  [/closing square bracket/, '"]"'],
  [/colon/, '":"'],
];

function parseMessage(message: string, token: Token): string {
  const expected = /^Parser Error: (.*?)\. \w+ !== \w+\.$/.exec(message);
  if (expected) {
    const what = expected[1] as string;
    const symbol = EXPECTED.find(([re]) => re.test(what))?.[1];
    return `${symbol ? `expected ${symbol}` : lowerFirst(what)}, found ${describe(token)}`;
  }
  if (/^Unexpected token( type)?: \w+$/.test(message)) return `unexpected ${describe(token)}`;
  const unknown = /^Unknown statement type: (.*)$/.exec(message);
  if (unknown) return `unknown tag "${unknown[1]}"`;
  return lowerFirst(message);
}

function describe(token: Token): string {
  if (token.type === 'Text') return `text ${JSON.stringify(token.value.slice(0, 20))}`;
  if (token.type === 'StringLiteral') return `the string ${JSON.stringify(token.value)}`;
  return `"${token.value}"`;
}

const BLOCK_END = new Map([
  ['if', 'endif'],
  ['for', 'endfor'],
  ['macro', 'endmacro'],
  ['call', 'endcall'],
  ['filter', 'endfilter'],
  ['set', 'endset'],
]);

const TAG_EDGES = new Set(['OpenExpression', 'OpenStatement', 'CloseExpression', 'CloseStatement']);

/** The parser ran out of tokens: blame the last tag left open, else the innermost unclosed block. */
function endOfTemplate(source: string, tokens: readonly LocatedToken[]): TemplateSyntaxError {
  const tag = [...tokens].reverse().find((t) => TAG_EDGES.has(t.type));
  if (tag?.type === 'OpenExpression' || tag?.type === 'OpenStatement') {
    const close = tag.type === 'OpenExpression' ? '}}' : '%}';
    return new TemplateSyntaxError(tag.start, `this tag is never closed with ${close}`);
  }
  const open: { name: string; start: number }[] = [];
  tokens.forEach((token, i) => {
    const word = tokens[i + 1];
    if (token.type !== 'OpenStatement' || word?.type !== 'Identifier') return;
    if (BLOCK_END.has(word.value)) {
      if (word.value === 'set' && isInlineSet(tokens, i)) return;
      open.push({ name: word.value, start: token.start });
    } else if (open.length > 0 && BLOCK_END.get(open.at(-1)?.name ?? '') === word.value) {
      open.pop();
    }
  });
  const block = open.at(-1);
  if (block) {
    const end = BLOCK_END.get(block.name) as string;
    return new TemplateSyntaxError(block.start, `{% ${block.name} %} is never closed with {% ${end} %}`);
  }
  return new TemplateSyntaxError(source.length, 'unexpected end of the template');
}

function isInlineSet(tokens: readonly LocatedToken[], open: number): boolean {
  for (let i = open + 2; i < tokens.length && tokens[i]?.type !== 'CloseStatement'; i++) {
    if (tokens[i]?.type === 'Equals') return true;
  }
  return false;
}

// The library lexer's table, in its order.
const SYMBOLS: [string, string][] = [
  ['{%', 'OpenStatement'], ['%}', 'CloseStatement'], ['{{', 'OpenExpression'], ['}}', 'CloseExpression'],
  ['(', 'OpenParen'], [')', 'CloseParen'], ['{', 'OpenCurlyBracket'], ['}', 'CloseCurlyBracket'],
  ['[', 'OpenSquareBracket'], [']', 'CloseSquareBracket'], [',', 'Comma'], ['.', 'Dot'], [':', 'Colon'],
  ['|', 'Pipe'], ['<=', 'ComparisonBinaryOperator'], ['>=', 'ComparisonBinaryOperator'],
  ['==', 'ComparisonBinaryOperator'], ['!=', 'ComparisonBinaryOperator'], ['<', 'ComparisonBinaryOperator'],
  ['>', 'ComparisonBinaryOperator'], ['+', 'AdditiveBinaryOperator'], ['-', 'AdditiveBinaryOperator'],
  ['~', 'AdditiveBinaryOperator'], ['**', 'ExponentiationBinaryOperator'], ['*', 'MultiplicativeBinaryOperator'],
  ['//', 'MultiplicativeBinaryOperator'], ['/', 'MultiplicativeBinaryOperator'], ['%', 'MultiplicativeBinaryOperator'],
  ['=', 'Equals'],
];

const ESCAPES = new Map([
  ['n', '\n'], ['t', '\t'], ['r', '\r'], ['b', '\b'], ['f', '\f'], ['v', '\v'], ["'", "'"], ['"', '"'], ['\\', '\\'],
]);

// The library tests possibly-undefined characters with these regexps; keep that behaviour.
const test = (re: RegExp, c: string | undefined): boolean => re.test(c as string);
const isDigit = (c: string | undefined): boolean => test(/[0-9]/, c);
const isWord = (c: string | undefined): boolean => test(/\w/, c);
const isSpace = (c: string | undefined): boolean => test(/\s/, c);

// after these (or at the start) comes text
const TEXT_FOLLOWS = new Set([undefined, 'CloseStatement', 'CloseExpression', 'Comment']);

/** The library's lexer step for step, with token offsets and positioned errors. */
export function locateTokens(source: string): LocatedToken[] {
  const src = source.endsWith('\n') ? source.slice(0, -1) : source;
  const tokens: LocatedToken[] = [];
  let pos = 0;
  let curlyDepth = 0;
  let tagStart = 0;
  const lastType = (): string | undefined => tokens.at(-1)?.type;
  const push = (type: string, value: string, start: number): void => {
    tokens.push({ type, value, start });
  };
  const unclosedTag = (): TemplateSyntaxError =>
    new TemplateSyntaxError(tagStart, `this tag is never closed with ${src.startsWith('{%', tagStart) ? '%}' : '}}'}`);

  const consumeWhile = (accept: (c: string | undefined) => boolean, atEnd: () => TemplateSyntaxError): string => {
    let text = '';
    while (accept(src[pos])) {
      if (src[pos] === '\\') {
        const at = pos++;
        if (pos >= src.length) throw atEnd();
        const escaped = src[pos++] as string;
        if (escaped === 'x' || escaped === 'u') {
          const hex = src.slice(pos, pos + (escaped === 'x' ? 2 : 4));
          if (hex.length !== (escaped === 'x' ? 2 : 4) || /[^0-9a-f]/i.test(hex)) {
            throw new TemplateSyntaxError(at, `invalid escape sequence \\${escaped}${hex}`);
          }
          text += String.fromCharCode(parseInt(hex, 16));
          pos += hex.length;
          continue;
        }
        const unescaped = ESCAPES.get(escaped);
        if (unescaped === undefined) throw new TemplateSyntaxError(at, `unknown escape sequence \\${escaped}`);
        text += unescaped;
        continue;
      }
      text += src[pos++];
      if (pos >= src.length) throw atEnd();
    }
    return text;
  };
  const stripTrailingWhitespace = (): void => {
    const last = tokens.at(-1);
    if (last?.type !== 'Text') return;
    last.value = last.value.trimEnd();
    if (last.value === '') tokens.pop();
  };
  const skipWhitespace = (): void => {
    while (pos < src.length && isSpace(src[pos])) pos++;
  };

  main: while (pos < src.length) {
    if (TEXT_FOLLOWS.has(lastType())) {
      const start = pos;
      while (pos < src.length && !(src[pos] === '{' && '%{#'.includes(src[pos + 1] ?? 'x'))) pos++;
      if (pos > start) {
        push('Text', src.slice(start, pos), start);
        continue;
      }
    }
    if (src.startsWith('{#', pos)) {
      const start = pos;
      pos += 2;
      const stripBefore = src[pos] === '-';
      if (stripBefore) pos++;
      let comment = '';
      while (src[pos] !== '#' || src[pos + 1] !== '}') {
        if (pos + 2 >= src.length) throw new TemplateSyntaxError(start, 'this comment is never closed with #}');
        comment += src[pos++];
      }
      const stripAfter = comment.endsWith('-');
      if (stripAfter) comment = comment.slice(0, -1);
      if (stripBefore) stripTrailingWhitespace();
      push('Comment', comment, start);
      pos += 2;
      if (stripAfter) skipWhitespace();
      continue;
    }
    if (src.startsWith('{%-', pos) || src.startsWith('{{-', pos)) {
      stripTrailingWhitespace();
      tagStart = pos;
      if (src[pos + 1] === '{') curlyDepth = 0;
      push(src[pos + 1] === '{' ? 'OpenExpression' : 'OpenStatement', src.slice(pos, pos + 2), pos);
      pos += 3;
      continue;
    }
    consumeWhile(isSpace, unclosedTag);
    if (src.startsWith('-%}', pos) || src.startsWith('-}}', pos)) {
      push(src[pos + 1] === '}' ? 'CloseExpression' : 'CloseStatement', src.slice(pos + 1, pos + 3), pos);
      pos += 3;
      skipWhitespace();
      continue;
    }

    const char = src[pos] as string;
    if (char === '-' || char === '+') {
      const last = lastType();
      if (last === 'Text' || last === undefined) throw new TemplateSyntaxError(pos, `unexpected character "${char}"`);
      if (!['Identifier', 'NumericLiteral', 'StringLiteral', 'CloseParen', 'CloseSquareBracket'].includes(last)) {
        // a unary sign, glued to the number that follows if any
        const start = pos++;
        let num = consumeWhile(isDigit, unclosedTag);
        if (num.length > 0 && src[pos] === '.' && isDigit(src[pos + 1])) {
          pos++;
          num = `${num}.${consumeWhile(isDigit, unclosedTag)}`;
        }
        push(num.length > 0 ? 'NumericLiteral' : 'UnaryOperator', char + num, start);
        continue;
      }
    }
    for (const [symbol, type] of SYMBOLS) {
      // inside an object literal "}}" closes two brackets, not the expression
      if (symbol === '}}' && curlyDepth > 0) continue;
      if (!src.startsWith(symbol, pos)) continue;
      if (type === 'OpenStatement' || type === 'OpenExpression') tagStart = pos;
      push(type, symbol, pos);
      if (type === 'OpenExpression') curlyDepth = 0;
      else if (type === 'OpenCurlyBracket') curlyDepth++;
      else if (type === 'CloseCurlyBracket') curlyDepth--;
      pos += symbol.length;
      continue main;
    }
    const start = pos;
    if (char === "'" || char === '"') {
      pos++;
      const text = consumeWhile((c) => c !== char, () => new TemplateSyntaxError(start, 'this string is never closed'));
      push('StringLiteral', text, start);
      pos++;
    } else if (isDigit(char)) {
      let num = consumeWhile(isDigit, unclosedTag);
      if (lastType() !== 'Dot' && src[pos] === '.' && isDigit(src[pos + 1])) {
        pos++;
        num = `${num}.${consumeWhile(isDigit, unclosedTag)}`;
      }
      push('NumericLiteral', num, start);
    } else if (isWord(char)) {
      push('Identifier', consumeWhile(isWord, unclosedTag), start);
    } else {
      throw new TemplateSyntaxError(pos, `unexpected character ${JSON.stringify(char)}`);
    }
  }
  return tokens;
}
