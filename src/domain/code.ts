import { ValidationError } from './errors.js';

export const MAX_CODE_LENGTH = 64;
export const MAX_PASTE_LINES = 100_000;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** Why a (trimmed) value cannot be a promo code, or undefined when it can. */
export function codeProblem(value: string): string | undefined {
  if (value.length === 0) return 'empty';
  if (/\s/.test(value)) return 'contains whitespace';
  if (/[^\x00-\x7f]/.test(value)) return 'contains a non-ASCII character';
  if (!PRINTABLE_ASCII.test(value)) return 'contains a control character';
  if (value.length > MAX_CODE_LENGTH) return `longer than ${MAX_CODE_LENGTH} characters`;
  return undefined;
}

/** Spaces, tabs and CR around a line are not part of the code. */
export function trimLine(line: string): string {
  return line.replace(/^[ \t\r]+|[ \t\r]+$/g, '');
}

export interface InvalidLine {
  line: number;
  value: string;
  reason: string;
}

export interface SortedLines {
  /** distinct valid codes, in the order they first appear */
  codes: string[];
  /** repeats of a valid code inside the same upload */
  repeats: number;
  invalid: InvalidLine[];
}

/** Trims each line, skips empty ones, and sorts the rest into valid distinct codes and rejects. */
export function sortLines(lines: readonly string[]): SortedLines {
  const seen = new Set<string>();
  const invalid: InvalidLine[] = [];
  let repeats = 0;
  lines.forEach((raw, index) => {
    const value = trimLine(raw);
    if (value === '') return;
    const reason = codeProblem(value);
    if (reason) invalid.push({ line: index + 1, value, reason });
    else if (seen.has(value)) repeats += 1;
    else seen.add(value);
  });
  return { codes: [...seen], repeats, invalid };
}

/** A paste (at most MAX_PASTE_LINES lines, else a 400 on field `path`) sorted as sortLines does. */
export function sortPaste(lines: readonly string[], path = 'codes'): SortedLines {
  if (lines.length > MAX_PASTE_LINES) {
    throw new ValidationError(`A paste takes at most ${MAX_PASTE_LINES} lines; import larger lists as a file.`, [
      { path, message: `${lines.length} lines; the maximum is ${MAX_PASTE_LINES}` },
    ]);
  }
  return sortLines(lines);
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
