// The promo-code format language: literal text plus `{string('<chars>', <length>)}` macros
// (also accepted with double braces). Pure functions, no I/O.

export interface FormatError {
  position: number;
  message: string;
}

export type FormatPart =
  | { kind: 'literal'; text: string }
  // alphabet: the distinct characters, sorted by char code
  | { kind: 'random'; alphabet: string; length: number };

export interface ParsedFormat {
  source: string;
  parts: FormatPart[];
  length: number;
  keyspace: bigint;
  entropyBits: number;
}

export type ParseResult = { ok: true; format: ParsedFormat } | { ok: false; error: FormatError };

export class FormatSyntaxError extends Error {
  readonly position: number;
  constructor(position: number, message: string) {
    super(message);
    this.name = 'FormatSyntaxError';
    this.position = position;
  }
}

const MAX_CODE_LENGTH = 64;
const MACRO_NAME = 'string';

export function parseFormat(source: string): ParseResult {
  try {
    return { ok: true, format: compileFormat(source) };
  } catch (err) {
    if (err instanceof FormatSyntaxError) {
      return { ok: false, error: { position: err.position, message: err.message } };
    }
    throw err;
  }
}

export function compileFormat(source: string): ParsedFormat {
  if (source.length === 0) throw new FormatSyntaxError(0, 'the format is empty');
  const parts: FormatPart[] = [];
  let literal = '';
  let pos = 0;
  while (pos < source.length) {
    const c = source[pos];
    if (c === '{') {
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      const macro = parseMacro(source, pos);
      parts.push(macro.part);
      pos = macro.end;
    } else if (c === '}') {
      throw new FormatSyntaxError(pos, 'unmatched "}": braces are only allowed around a macro');
    } else {
      checkCodeChar(source, pos, 'in the literal text');
      literal += c;
      pos++;
    }
  }
  if (literal) parts.push({ kind: 'literal', text: literal });

  let length = 0;
  let keyspace = 1n;
  let entropy = 0;
  for (const part of parts) {
    if (part.kind === 'literal') {
      length += part.text.length;
    } else {
      length += part.length;
      keyspace *= BigInt(part.alphabet.length) ** BigInt(part.length);
      entropy += part.length * Math.log2(part.alphabet.length);
    }
  }
  if (length > MAX_CODE_LENGTH) {
    throw new FormatSyntaxError(
      0,
      `codes would be ${length} characters long; the maximum is ${MAX_CODE_LENGTH}`,
    );
  }
  return { source, parts, length, keyspace, entropyBits: Math.round(entropy * 100) / 100 };
}

function describe(c: string | undefined): string {
  if (c === undefined) return 'the end of the format';
  const code = c.codePointAt(0) ?? 0;
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(String.fromCodePoint(code))} (U+${hex})`;
}

function checkCodeChar(source: string, pos: number, where: string): void {
  const code = source.charCodeAt(pos);
  if (code < 0x21 || code > 0x7e) {
    throw new FormatSyntaxError(
      pos,
      `character ${describe(source.slice(pos, pos + 2))} is not allowed ${where}; ` +
        'codes may only contain printable ASCII characters without spaces',
    );
  }
}

/** Parses the macro whose opening brace is at `open`; returns the part and the index just after it. */
function parseMacro(source: string, open: number): { part: FormatPart; end: number } {
  const double = source[open + 1] === '{';
  let p = open + (double ? 2 : 1);

  const skipSpace = (): void => {
    while (p < source.length && /\s/.test(source[p] as string)) p++;
  };
  // Running out of input inside a macro means its brace was never closed.
  const unmatched = (): FormatSyntaxError =>
    new FormatSyntaxError(
      open,
      double
        ? 'unmatched "{{": the macro is never closed with "}}"'
        : 'unmatched "{": the macro is never closed with "}"',
    );
  const expect = (ch: string, what: string): void => {
    if (p >= source.length) throw unmatched();
    if (source[p] !== ch) {
      throw new FormatSyntaxError(p, `expected ${what}, found ${describe(source[p])}`);
    }
    p++;
  };

  skipSpace();
  if (p >= source.length) throw unmatched();
  const nameStart = p;
  const name = /[A-Za-z_][A-Za-z0-9_]*/y;
  name.lastIndex = p;
  const nameMatch = name.exec(source);
  if (!nameMatch) {
    throw new FormatSyntaxError(p, `expected a macro name such as ${MACRO_NAME}, found ${describe(source[p])}`);
  }
  if (nameMatch[0] !== MACRO_NAME) {
    throw new FormatSyntaxError(
      nameStart,
      `unknown macro "${nameMatch[0]}"; the only macro is ${MACRO_NAME}('<chars>', <length>)`,
    );
  }
  p += nameMatch[0].length;

  skipSpace();
  expect('(', `"(" after the macro name ${MACRO_NAME}`);
  skipSpace();
  expect("'", `"'" to start the character list`);
  const close = source.indexOf("'", p);
  if (close < 0) {
    throw new FormatSyntaxError(p - 1, `missing closing "'" for the character list`);
  }
  const alphabet = parseChars(source, p, close);
  p = close + 1;
  skipSpace();
  expect(',', '"," between the character list and the length');
  skipSpace();
  const length = parseLength(source, p, unmatched);
  p = length.end;
  skipSpace();
  expect(')', '")" after the length');
  skipSpace();
  expect('}', double ? '"}}" to close the macro' : '"}" to close the macro');
  if (double) expect('}', '"}}" to close the macro');
  return { part: { kind: 'random', alphabet, length: length.value }, end: p };
}

/** The characters between the quotes at [start, end): ranges, single characters, `a-Z` for all letters. */
function parseChars(source: string, start: number, end: number): string {
  if (start === end) throw new FormatSyntaxError(start - 1, 'the character list is empty');
  for (let i = start; i < end; i++) checkCodeChar(source, i, 'in the character list');
  const set = new Set<number>();
  const addRange = (from: number, to: number): void => {
    for (let c = from; c <= to; c++) set.add(c);
  };
  let i = start;
  while (i < end) {
    const first = source.charCodeAt(i);
    // A '-' is a range only between two characters; first or last in the list it is literal.
    if (i + 2 < end && source[i + 1] === '-') {
      const last = source.charCodeAt(i + 2);
      if (source[i] === 'a' && source[i + 2] === 'Z') {
        addRange(0x61, 0x7a);
        addRange(0x41, 0x5a);
      } else if (last < first) {
        throw new FormatSyntaxError(
          i,
          `reversed range "${source.slice(i, i + 3)}": the first character comes after the last`,
        );
      } else {
        addRange(first, last);
      }
      i += 3;
    } else {
      set.add(first);
      i++;
    }
  }
  return String.fromCharCode(...[...set].sort((a, b) => a - b));
}

function parseLength(
  source: string,
  start: number,
  unmatched: () => FormatSyntaxError,
): { value: number; end: number } {
  const numberLike = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)/y;
  numberLike.lastIndex = start;
  const m = numberLike.exec(source);
  const rule = `length must be an integer from 1 to ${MAX_CODE_LENGTH}`;
  if (!m) {
    if (start >= source.length) throw unmatched();
    if (')},'.includes(source[start] as string)) {
      throw new FormatSyntaxError(start, `expected the length after ",": the ${rule}`);
    }
    throw new FormatSyntaxError(start, `the ${rule}, found ${describe(source[start])}`);
  }
  const text = m[0];
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_CODE_LENGTH) {
    throw new FormatSyntaxError(start, `the ${rule}, got ${text}`);
  }
  return { value, end: start + text.length };
}

const escapeLiteral = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const escapeClassChar = (c: string): string => (/[\\\]\[^\-/]/.test(c) ? `\\${c}` : c);

/** A character class for a sorted alphabet, with runs of 3+ consecutive characters written as ranges. */
function characterClass(alphabet: string): string {
  let out = '';
  let i = 0;
  while (i < alphabet.length) {
    let j = i;
    while (j + 1 < alphabet.length && alphabet.charCodeAt(j + 1) === alphabet.charCodeAt(j) + 1) j++;
    const first = escapeClassChar(alphabet[i] as string);
    const last = escapeClassChar(alphabet[j] as string);
    if (j - i >= 2) out += `${first}-${last}`;
    else out += j > i ? first + last : first;
    i = j + 1;
  }
  return `[${out}]`;
}

export function formatRegExp(format: ParsedFormat): RegExp {
  const body = format.parts
    .map((part) =>
      part.kind === 'literal'
        ? escapeLiteral(part.text)
        : characterClass(part.alphabet) + (part.length === 1 ? '' : `{${part.length}}`),
    )
    .join('');
  return new RegExp(`^${body}$`);
}

export function canProduce(format: ParsedFormat, code: string): boolean {
  if (code.length !== format.length) return false;
  let p = 0;
  for (const part of format.parts) {
    if (part.kind === 'literal') {
      if (!code.startsWith(part.text, p)) return false;
      p += part.text.length;
    } else {
      for (let k = 0; k < part.length; k++, p++) {
        if (!part.alphabet.includes(code[p] as string)) return false;
      }
    }
  }
  return true;
}

/**
 * The rank of a code inside the keyspace: a bijection between producible codes and 0n..keyspace-1n.
 * Random characters are mixed-radix digits, the first one most significant, so index order is the
 * codes' char-code (lexicographic) order.
 */
export function codeAt(format: ParsedFormat, index: bigint): string {
  if (index < 0n || index >= format.keyspace) {
    throw new RangeError(`index ${index} is outside the keyspace 0..${format.keyspace - 1n}`);
  }
  const pieces: string[] = [];
  let rest = index;
  for (let i = format.parts.length - 1; i >= 0; i--) {
    const part = format.parts[i] as FormatPart;
    if (part.kind === 'literal') {
      pieces.push(part.text);
      continue;
    }
    const radix = BigInt(part.alphabet.length);
    let chunk = '';
    for (let k = 0; k < part.length; k++) {
      chunk = part.alphabet[Number(rest % radix)] + chunk;
      rest /= radix;
    }
    pieces.push(chunk);
  }
  return pieces.reverse().join('');
}

/** Inverse of codeAt; throws a RangeError if the format cannot produce `code`. */
export function indexOf(format: ParsedFormat, code: string): bigint {
  if (!canProduce(format, code)) {
    throw new RangeError(`${JSON.stringify(code)} cannot be produced by the format ${format.source}`);
  }
  let index = 0n;
  let p = 0;
  for (const part of format.parts) {
    if (part.kind === 'literal') {
      p += part.text.length;
      continue;
    }
    const radix = BigInt(part.alphabet.length);
    for (let k = 0; k < part.length; k++, p++) {
      index = index * radix + BigInt(part.alphabet.indexOf(code[p] as string));
    }
  }
  return index;
}
