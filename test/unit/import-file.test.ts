import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImportFileParser, type ImportFormat, MAX_LINE_BYTES, MAX_STORED_VALUE } from '../../src/domain/import-file.js';
import { ValidationError } from '../../src/domain/errors.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Parses a file fed in chunks cut at the given offsets. */
function parse(format: ImportFormat, file: Uint8Array | string, cuts: number[] = []) {
  const data = typeof file === 'string' ? bytes(file) : file;
  const parser = new ImportFileParser(format);
  const values = [];
  let from = 0;
  for (const cut of [...cuts.filter((at) => at > 0 && at < data.length).sort((a, b) => a - b), data.length]) {
    values.push(...parser.push(data.subarray(from, cut)));
    from = cut;
  }
  values.push(...parser.end());
  return values;
}

describe('TXT files', () => {
  it('trims each line, skips empty ones and numbers the physical lines from 1', () => {
    expect(parse('txt', '\uFEFF A1 \r\n\r\n\tB2\t\n   \nC 3\nlast')).toEqual([
      { line: 1, value: 'A1' },
      { line: 3, value: 'B2' },
      { line: 5, value: 'C 3', problem: 'contains whitespace' },
      { line: 6, value: 'last' },
    ]);
    expect(parse('txt', '')).toEqual([]);
    expect(parse('txt', '\n\n')).toEqual([]);
  });

  it('keeps what only the bytes show: broken UTF-8 and NUL bytes', () => {
    const file = new Uint8Array([...bytes('OK1\nBAD'), 0xff, 0xfe, ...bytes('\nNUL'), 0, ...bytes('X\ncafé\n')]);
    expect(parse('txt', file)).toEqual([
      { line: 1, value: 'OK1' },
      { line: 2, value: 'BAD\uFFFD\uFFFD', problem: 'not valid UTF-8' },
      { line: 3, value: 'NUL\uFFFDX', problem: 'contains a control character' },
      { line: 4, value: 'café', problem: 'contains a non-ASCII character' },
    ]);
  });

  it('gives the same values however the bytes are cut into chunks', () => {
    const file = new Uint8Array([...bytes('\uFEFFé1\r\n  x y \n\n'), 0xc3, ...bytes('\nœuvre\nZ')]);
    const whole = parse('txt', file);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: file.length - 1 }), { maxLength: 8 }), (cuts) => {
        expect(parse('txt', file, cuts)).toEqual(whole);
      }),
    );
    expect(whole.map(({ line }) => line)).toEqual([1, 2, 4, 5, 6]);
  });

  it('bounds a huge line: judged by its first bytes, stored cut short', () => {
    const long = 'A'.repeat(MAX_LINE_BYTES * 3);
    const values = parse('txt', `${long}\nB\n`, [1000, MAX_LINE_BYTES, MAX_LINE_BYTES * 2 + 5]);
    expect(values).toEqual([
      { line: 1, value: 'A'.repeat(MAX_STORED_VALUE), problem: 'longer than 64 characters' },
      { line: 2, value: 'B' },
    ]);
  });
});

describe('CSV files', () => {
  it('takes the code column, whatever its place, with quotes, commas, escaped quotes, BOM and CRLF', () => {
    const file = '\uFEFFname,Code ,note\r\n' +
      'a,C1,x\r\n' +
      '"b, with comma"," C2 ",y\r\n' +
      'c,"C""3",z\r\n' +
      '\r\n' +
      'd,"C4","multi\r\nline, note"\r\n' +
      'e,"C\n5",w\n' +
      'f,,v\n' +
      'g\n' +
      'h,ab"c,"note ""quoted"""\n' +
      'i,C6,lo"ng';
    expect(parse('csv', file)).toEqual([
      { line: 2, value: 'C1' },
      { line: 3, value: 'C2' },
      { line: 4, value: 'C"3' },
      { line: 6, value: 'C4' },
      { line: 8, value: 'C\n5', problem: 'contains whitespace' },
      { line: 10, value: '', problem: 'empty' },
      { line: 11, value: '', problem: 'empty' },
      { line: 12, value: 'ab"c' },
      { line: 13, value: 'C6' },
    ]);
  });

  it('gives the same records however the bytes are cut', () => {
    const file = bytes('x,code\r\n"1,2","Q""1"\r\n"a\r\nb",Q2\r\n,\r\n\r\n q ,"  Q3  "\r\n');
    const whole = parse('csv', file);
    expect(whole).toEqual([
      { line: 2, value: 'Q"1' },
      { line: 3, value: 'Q2' },
      { line: 5, value: '', problem: 'empty' },
      { line: 7, value: 'Q3' },
    ]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: file.length - 1 }), { maxLength: 8 }), (cuts) => {
        expect(parse('csv', file, cuts)).toEqual(whole);
      }),
    );
  });

  it('rejects an unterminated quote at the end of the file, from the line it opened on', () => {
    expect(parse('csv', 'code\nA\n"B\nC\n')).toEqual([
      { line: 2, value: 'A' },
      { line: 3, value: 'B\nC', problem: 'unterminated quoted field' },
    ]);
  });

  it('refuses a header without a code column, and an empty file, naming the problem', () => {
    expect(() => parse('csv', 'name,coupon\nA,B\n')).toThrow(ValidationError);
    expect(() => parse('csv', 'name,coupon\nA,B\n')).toThrow(/no `code` column; it has "name", "coupon"/);
    expect(() => parse('csv', '\n\n')).toThrow(/empty/);
  });

  it('marks broken UTF-8 only when it is in the code field', () => {
    const file = new Uint8Array([...bytes('code,note\nA1,'), 0xff, ...bytes('\nA'), 0xff, ...bytes(',ok\n')]);
    expect(parse('csv', file)).toEqual([
      { line: 2, value: 'A1' },
      { line: 3, value: 'A\uFFFD', problem: 'not valid UTF-8' },
    ]);
  });
});
