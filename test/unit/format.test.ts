import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  canProduce,
  codeAt,
  compileFormat,
  FormatSyntaxError,
  formatRegExp,
  indexOf,
  parseFormat,
  type FormatPart,
  type ParsedFormat,
} from '../../src/domain/format.js';
import { randomCodes } from '../../src/domain/random.js';

const SEED = "SUMMER-S{string('0-9', 4)}{string('a-Z', 10)}";
const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

function parsed(source: string): ParsedFormat {
  const result = parseFormat(source);
  if (!result.ok) throw new Error(`unexpected error at ${result.error.position}: ${result.error.message}`);
  return result.format;
}

function errorOf(source: string): { position: number; message: string } {
  const result = parseFormat(source);
  if (result.ok) throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
  return result.error;
}

describe('parseFormat errors', () => {
  // [description, format, position, message pattern]
  const cases: [string, string, number, RegExp][] = [
    ['empty format', '', 0, /empty/],
    ['unknown macro', '{number(4)}', 1, /unknown macro "number"/],
    ['unknown macro after text and space', 'AB{ rand(4)}', 4, /unknown macro "rand"/],
    ['unknown macro is case sensitive', '{String(\'0-9\', 4)}', 1, /unknown macro "String"/],
    ['missing macro name', 'A{(4)}', 2, /expected a macro name/],
    ['unmatched { with no closing', "{string('0-9', 4)", 0, /unmatched "\{"/],
    ['unmatched { at the end', "AB{string('0-9', 4)}{", 20, /unmatched "\{"/],
    ['unmatched { with unfinished arguments', "X{string('0-9', 4", 1, /unmatched "\{"/],
    ['unmatched trailing }', "{string('0-9', 4)}}", 18, /unmatched "\}"/],
    ['unmatched } in literal text', 'AB}C', 2, /unmatched "\}"/],
    ['double brace missing one closing', "{{string('0-9', 4)}", 0, /unmatched "\{\{"/],
    ['double brace closed by } and junk', "{{string('0-9', 4)}X", 19, /expected "\}\}"/],
    ['missing opening quote', "{string(0-9', 4)}", 8, /expected "'" to start the character list/],
    ['missing closing quote', "{string('0-9, 4)}", 8, /missing closing "'"/],
    ['missing comma', "{string('0-9' 4)}", 14, /expected ","/],
    ['missing opening parenthesis', "{string '0-9', 4)}", 8, /expected "\("/],
    ['missing closing parenthesis', "{string('0-9', 4}", 16, /expected "\)"/],
    ['junk after the length', "{string('0-9', 4 x)}", 17, /expected "\)" after the length/],
    ['junk glued to the length', "{string('0-9', 4x)}", 16, /expected "\)" after the length/],
    ['junk before the closing brace', "{string('0-9', 4) x}", 18, /expected "\}"/],
    ['missing length', "{string('0-9', )}", 15, /expected the length/],
    ['empty character list', "AB{string('', 4)}", 10, /character list is empty/],
    ['reversed digit range', "XY{string('9-0', 4)}", 11, /reversed range "9-0"/],
    ['reversed letter range after other chars', "{string('abz-a', 4)}", 11, /reversed range "z-a"/],
    ['space in literal text', "AB C{string('0-9', 4)}", 2, /not allowed in the literal text/],
    ['tab in literal text', 'A\tB', 1, /"\\t" \(U\+0009\) is not allowed/],
    ['non-ASCII in literal text', 'CAFÉ', 3, /U\+00C9.*not allowed/],
    ['emoji in literal text', 'AB😀', 2, /U\+1F600.*not allowed/],
    ['control character in literal text', 'A\u0007', 1, /not allowed/],
    ['non-ASCII in the character list', "{string('0-9é', 4)}", 12, /U\+00E9.*not allowed in the character list/],
    ['space in the character list', "{string('0 9', 4)}", 10, /not allowed in the character list/],
    ['fractional length', "{string('0-9', 4.5)}", 15, /length must be an integer from 1 to 64, got 4\.5/],
    ['negative length', "{string('0-9', -1)}", 15, /length must be an integer from 1 to 64/],
    ['non-numeric length', "{string('0-9', abc)}", 15, /length must be an integer from 1 to 64/],
    ['quoted length', "{string('0-9', '4')}", 15, /length must be an integer from 1 to 64/],
    ['zero length', "{string('0-9', 0)}", 15, /length must be an integer from 1 to 64, got 0/],
    ['length 65', "AB{string('0-9', 65)}", 17, /length must be an integer from 1 to 64, got 65/],
    ['total length over 64', "CODE-{string('a-Z', 60)}{string('0-9', 5)}", 0,
      /codes would be 70 characters long; the maximum is 64/],
    ['literal text over 64', 'X'.repeat(65), 0, /codes would be 65 characters long; the maximum is 64/],
  ];

  for (const [name, source, position, message] of cases) {
    it(`${name}: ${JSON.stringify(source)} -> position ${position}`, () => {
      const error = errorOf(source);
      expect(error.message).toMatch(message);
      expect(error.position).toBe(position);
    });
  }

  it('compileFormat throws a FormatSyntaxError with a plain message and the position', () => {
    let caught: unknown;
    try {
      compileFormat('{number(4)}');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FormatSyntaxError);
    expect(caught).toBeInstanceOf(Error);
    const error = caught as FormatSyntaxError;
    expect(error.position).toBe(1);
    expect(error.message).toBe('unknown macro "number"; the only macro is string(\'<chars>\', <length>)');
    expect(error.name).toBe('FormatSyntaxError');
  });
});

describe('parseFormat happy paths', () => {
  it('parses the seed example', () => {
    const format = parsed(SEED);
    expect(format.source).toBe(SEED);
    expect(format.parts).toEqual([
      { kind: 'literal', text: 'SUMMER-S' },
      { kind: 'random', alphabet: DIGITS, length: 4 },
      { kind: 'random', alphabet: UPPER + LOWER, length: 10 },
    ]);
    expect(format.length).toBe(22);
    expect(format.keyspace).toBe(10n ** 4n * 52n ** 10n);
    expect(format.entropyBits).toBeCloseTo(4 * Math.log2(10) + 10 * Math.log2(52), 2);
    expect(formatRegExp(format).test('SUMMER-S5070RLLjJLWqpf')).toBe(true);
  });

  const alphabets: [string, string][] = [
    ['a-Z', UPPER + LOWER],
    ['A-HJ-NP-Z2-9', '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'],
    ['-a-c', '-abc'],
    ['a-c-', '-abc'],
    ['-', '-'],
    ['aab', 'ab'],
    ['ba0-20', '012ab'],
    ['A-z', UPPER + '[\\]^_`' + LOWER],
    ['{}()\\', '()\\{}'],
  ];
  for (const [chars, alphabet] of alphabets) {
    it(`character list '${chars}' gives ${alphabet.length} characters`, () => {
      expect(parsed(`{string('${chars}', 3)}`).parts).toEqual([{ kind: 'random', alphabet, length: 3 }]);
    });
  }

  it('a-Z has 52 letters and A-HJ-NP-Z2-9 has 32 characters', () => {
    expect(parsed("{string('a-Z', 1)}").keyspace).toBe(52n);
    expect(parsed("{string('A-HJ-NP-Z2-9', 1)}").keyspace).toBe(32n);
  });

  it('accepts the double-brace form and whitespace inside the macro', () => {
    const expected = [
      { kind: 'literal', text: 'X' },
      { kind: 'random', alphabet: DIGITS, length: 2 },
    ];
    for (const source of [
      "X{{string('0-9', 2)}}",
      "X{string( '0-9' , 2 )}",
      "X{ string ('0-9',2) }",
      "X{{ string( '0-9' ,\t2 ) }}",
    ]) {
      expect(parsed(source).parts, source).toEqual(expected);
    }
    expect(parsed("{{string('0-9', 2)}}").keyspace).toBe(100n);
  });

  it('a format without macros is valid with keyspace 1', () => {
    const format = parsed('WELCOME10');
    expect(format.parts).toEqual([{ kind: 'literal', text: 'WELCOME10' }]);
    expect(format.keyspace).toBe(1n);
    expect(format.entropyBits).toBe(0);
    expect(codeAt(format, 0n)).toBe('WELCOME10');
    expect(parsed('X'.repeat(64)).length).toBe(64);
  });

  it('accepts the extreme lengths 1 and 64', () => {
    expect(parsed("{string('0-9', 1)}").length).toBe(1);
    expect(parsed("{string('0-9', 64)}").keyspace).toBe(10n ** 64n);
  });
});

describe('formatRegExp, canProduce, codeAt, indexOf', () => {
  it('builds a readable anchored expression', () => {
    expect(formatRegExp(parsed(SEED)).source).toBe('^SUMMER-S[0-9]{4}[A-Za-z]{10}$');
  });

  it('escapes regular-expression syntax in literals and classes', () => {
    const format = parsed("a.b*(x|y)$^{string('[]^\\-', 2)}+?");
    const re = formatRegExp(format);
    expect(re.test('a.b*(x|y)$^]^+?')).toBe(true);
    expect(re.test('a.b*(x|y)$^\\-+?')).toBe(true);
    expect(re.test('aXb*(x|y)$^]^+?')).toBe(false);
    expect(re.test('a.b*(x|y)$^ab+?')).toBe(false);
    expect(canProduce(format, 'a.b*(x|y)$^[-+?')).toBe(true);
  });

  it('ranks the seed keyspace in lexicographic order', () => {
    const format = parsed(SEED);
    expect(codeAt(format, 0n)).toBe('SUMMER-S0000AAAAAAAAAA');
    expect(codeAt(format, 1n)).toBe('SUMMER-S0000AAAAAAAAAB');
    expect(codeAt(format, format.keyspace - 1n)).toBe('SUMMER-S9999zzzzzzzzzz');
    expect(indexOf(format, 'SUMMER-S9999zzzzzzzzzz')).toBe(format.keyspace - 1n);
    expect(() => codeAt(format, format.keyspace)).toThrow(RangeError);
    expect(() => codeAt(format, -1n)).toThrow(RangeError);
    expect(() => indexOf(format, 'SUMMER-S999Xzzzzzzzzzz')).toThrow(/cannot be produced/);
    expect(canProduce(format, 'SUMMER-S9999zzzzzzzzz')).toBe(false);
    expect(canProduce(format, 'WINTER-S9999zzzzzzzzzz')).toBe(false);
  });
});

// ---- property tests over randomly generated formats ----

const printable = (exclude: string): string[] =>
  Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).filter((c) => !exclude.includes(c));
const LITERAL_CHARS = printable('{}');
const SINGLE_CHARS = printable("'-"); // '-' only appears as the leading/trailing literal dash
const RANGE_STARTS = [...DIGITS, ...UPPER, ...LOWER];

interface Item {
  text: string;
  chars: string[];
}

function charItem(maxWidth: number, letters: boolean): fc.Arbitrary<Item> {
  const single = fc.constantFrom(...SINGLE_CHARS).map((c) => ({ text: c, chars: [c] }));
  const range = fc
    .record({ from: fc.constantFrom(...RANGE_STARTS), width: fc.nat(maxWidth) })
    .map(({ from, width }) => {
      const start = from.charCodeAt(0);
      const end = Math.min(start + width, 0x7e);
      const chars = Array.from({ length: end - start + 1 }, (_, k) => String.fromCharCode(start + k));
      return { text: `${from}-${String.fromCharCode(end)}`, chars };
    });
  const all = { text: 'a-Z', chars: [...UPPER, ...LOWER] };
  return letters ? fc.oneof(single, range, fc.constant(all)) : fc.oneof(single, range);
}

const MACRO_STYLES = [
  (chars: string, n: number) => `{string('${chars}', ${n})}`,
  (chars: string, n: number) => `{{string('${chars}', ${n})}}`,
  (chars: string, n: number) => `{ string( '${chars}' , ${n} ) }`,
  (chars: string, n: number) => `{{string('${chars}',${n})}}`,
];

interface Generated {
  source: string;
  parts: FormatPart[];
}

function generatedFormat(opts: { maxLength: number; maxWidth: number; maxItems: number; letters: boolean }) {
  const literal = fc
    .array(fc.constantFrom(...LITERAL_CHARS), { minLength: 1, maxLength: opts.maxLength })
    .map((cs) => ({ source: cs.join(''), part: { kind: 'literal', text: cs.join('') } as FormatPart }));
  const macro = fc
    .record({
      items: fc.array(charItem(opts.maxWidth, opts.letters), { minLength: 1, maxLength: opts.maxItems }),
      dash: fc.constantFrom('', 'leading', 'trailing'),
      length: fc.integer({ min: 1, max: opts.maxLength }),
      style: fc.nat(MACRO_STYLES.length - 1),
    })
    .map(({ items, dash, length, style }) => {
      let chars = items.map((i) => i.text).join('');
      const set = new Set(items.flatMap((i) => i.chars));
      if (dash) {
        chars = dash === 'leading' ? `-${chars}` : `${chars}-`;
        set.add('-');
      }
      const alphabet = [...set].sort().join('');
      const render = MACRO_STYLES[style] as (c: string, n: number) => string;
      return { source: render(chars, length), part: { kind: 'random', alphabet, length } as FormatPart };
    });
  return fc.array(fc.oneof(literal, macro), { minLength: 1, maxLength: 4 }).map((pieces): Generated => {
    const parts: FormatPart[] = [];
    for (const { part } of pieces) {
      const last = parts[parts.length - 1];
      // adjacent literal text is one part
      if (part.kind === 'literal' && last?.kind === 'literal') last.text += part.text;
      else parts.push({ ...part });
    }
    return { source: pieces.map((p) => p.source).join(''), parts };
  });
}

const smallFormats = generatedFormat({ maxLength: 6, maxWidth: 40, maxItems: 4, letters: true });
const tinyFormats = generatedFormat({ maxLength: 2, maxWidth: 3, maxItems: 3, letters: false }).filter(
  (g) => parsed(g.source).keyspace <= 2000n,
);

function bruteKeyspace(parts: FormatPart[]): bigint {
  return parts.reduce(
    (k, p) => (p.kind === 'random' ? k * BigInt(p.alphabet.length) ** BigInt(p.length) : k),
    1n,
  );
}

describe('format properties', () => {
  it('parses generated formats into the parts they were generated from', () => {
    fc.assert(
      fc.property(smallFormats, ({ source, parts }) => {
        const format = parsed(source);
        expect(format.parts).toEqual(parts);
        expect(format.keyspace).toBe(bruteKeyspace(parts));
        const length = parts.reduce((n, p) => n + (p.kind === 'literal' ? p.text.length : p.length), 0);
        expect(format.length).toBe(length);
      }),
      { numRuns: 300 },
    );
  });

  it('every random code matches formatRegExp and canProduce, and round-trips through indexOf', () => {
    fc.assert(
      fc.property(smallFormats, ({ source }) => {
        const format = parsed(source);
        const re = formatRegExp(format);
        for (const code of randomCodes(format, 50)) {
          expect(code).toMatch(re);
          expect(canProduce(format, code)).toBe(true);
          expect(codeAt(format, indexOf(format, code))).toBe(code);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('codeAt and indexOf are inverse over the whole keyspace', () => {
    fc.assert(
      fc.property(smallFormats, fc.bigInt({ min: 0n, max: 2n ** 512n }), ({ source }, seed) => {
        const format = parsed(source);
        const index = seed % format.keyspace;
        const code = codeAt(format, index);
        expect(code).toMatch(formatRegExp(format));
        expect(indexOf(format, code)).toBe(index);
      }),
      { numRuns: 300 },
    );
  });

  it('formatRegExp and canProduce agree on mutated codes', () => {
    fc.assert(
      fc.property(
        smallFormats,
        fc.bigInt({ min: 0n, max: 2n ** 512n }),
        fc.nat(),
        fc.constantFrom(...printable('')),
        ({ source }, seed, at, replacement) => {
          const format = parsed(source);
          const code = codeAt(format, seed % format.keyspace);
          const i = at % code.length;
          const mutated = code.slice(0, i) + replacement + code.slice(i + 1);
          expect(formatRegExp(format).test(mutated)).toBe(canProduce(format, mutated));
          expect(formatRegExp(format).test(mutated + 'x')).toBe(false);
          expect(formatRegExp(format).test(mutated.slice(1))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('for tiny formats, enumerating codeAt gives exactly keyspace distinct matching codes, in order', () => {
    fc.assert(
      fc.property(tinyFormats, ({ source }) => {
        const format = parsed(source);
        const re = formatRegExp(format);
        const codes: string[] = [];
        for (let i = 0n; i < format.keyspace; i++) codes.push(codeAt(format, i));
        expect(BigInt(new Set(codes).size)).toBe(format.keyspace);
        for (const code of codes) expect(code).toMatch(re);
        // index order is char-code order of the codes
        const sorted = [...codes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(codes).toEqual(sorted);
      }),
      { numRuns: 200 },
    );
  });
});
