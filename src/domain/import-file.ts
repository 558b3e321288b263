import { isUtf8 } from 'node:buffer';
import { codeProblem, MAX_CODE_LENGTH, trimLine } from './code.js';
import { ValidationError } from './errors.js';

// An import file, read a chunk at a time into the values to stage: one per non-empty line.
//
// Rules (docs/imports.md):
// - TXT: one code per line. CSV: RFC 4180 (quoted fields, "" inside quotes, line breaks
//   inside quotes); the first non-blank record is the header and must have a `code` column
//   (matched case-insensitively after trimming); the other columns are ignored.
// - Lines end in LF or CRLF; a UTF-8 byte order mark at the start is dropped.
// - `line` counts the file's physical lines from 1 (for CSV the header is a line too); a CSV
//   record that spans several lines (a quoted line break) carries the number of its first.
// - Every value is trimmed (spaces, tabs, CR); empty lines (blank records in CSV) are
//   skipped; an empty `code` field of a CSV record is kept, and rejected as 'empty'.
// - Each value is judged here, as it is read: what only the bytes show (broken UTF-8 in the
//   value: 'not valid UTF-8'; an unterminated quote at the end of a CSV file), then the code
//   rules (codeProblem). Duplicates are found when the lines are moved into the group.
//   A NUL byte (which PostgreSQL text cannot hold) is stored as U+FFFD.
// - Memory stays bounded whatever the file: a physical line longer than MAX_LINE_BYTES is
//   judged by its first MAX_LINE_BYTES, and a stored value keeps MAX_STORED_VALUE characters.

export type ImportFormat = 'txt' | 'csv';

/** How to read an uploaded file: a file of type text/csv or named *.csv is CSV, any other one code a line. */
export function importFormatOf(mimeType: string, filename: string | undefined): ImportFormat {
  return mimeType === 'text/csv' || (filename ?? '').toLowerCase().endsWith('.csv') ? 'csv' : 'txt';
}

/** A non-empty, trimmed value of the file and the line it starts on; `problem` when it cannot be a code. */
export interface FileValue {
  line: number;
  value: string;
  problem?: string;
}

export const MAX_LINE_BYTES = 64 * 1024;
export const MAX_STORED_VALUE = 1000;

const LF = 0x0a;
const BOM = '\uFEFF';
const REPLACEMENT = '\uFFFD';
const NOT_UTF8 = 'not valid UTF-8';

/** Streaming parser of one import file: `push` each chunk of bytes, then `end`. */
export class ImportFileParser {
  private carry: Uint8Array[] = [];
  private carryBytes = 0;
  private truncated = false;
  private lineNumber = 0;
  private out: FileValue[] = [];
  private readonly records: RecordReader;

  constructor(format: ImportFormat) {
    this.records = format === 'csv' ? new CsvReader() : new TxtReader();
  }

  /** The values of the lines this chunk completes. */
  push(chunk: Uint8Array): FileValue[] {
    let from = 0;
    if (this.carryBytes > 0 || this.truncated) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        this.keep(chunk);
        return this.take();
      }
      this.keep(chunk.subarray(0, lf));
      this.carriedLine();
      from = lf + 1;
    }
    const last = chunk.lastIndexOf(LF);
    if (last >= from) {
      this.completeLines(chunk.subarray(from, last));
      from = last + 1;
    }
    if (from < chunk.length) this.keep(chunk.subarray(from));
    return this.take();
  }

  /** The values of the last line (one without a line break) and of what the file leaves open. */
  end(): FileValue[] {
    if (this.carryBytes > 0 || this.truncated) this.carriedLine();
    this.records.end(this.emit);
    return this.take();
  }

  /** Physical lines read so far. */
  get lines(): number {
    return this.lineNumber;
  }

  private take(): FileValue[] {
    const values = this.out;
    this.out = [];
    return values;
  }

  private keep(bytes: Uint8Array): void {
    if (this.truncated) return;
    const room = MAX_LINE_BYTES - this.carryBytes;
    if (bytes.length > room) this.truncated = true;
    const kept = bytes.slice(0, room);
    this.carry.push(kept);
    this.carryBytes += kept.length;
  }

  private carriedLine(): void {
    const bytes = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry);
    this.line(decode(bytes), isUtf8(bytes), this.truncated);
    this.carry = [];
    this.carryBytes = 0;
    this.truncated = false;
  }

  /** Whole lines separated by LF: decoded at once when they are valid UTF-8 (the usual case). */
  private completeLines(bytes: Uint8Array): void {
    if (isUtf8(bytes)) {
      for (const text of decode(bytes).split('\n')) this.line(text, true, false);
      return;
    }
    for (let start = 0; ; ) {
      const lf = bytes.indexOf(LF, start);
      const line = bytes.subarray(start, lf === -1 ? bytes.length : lf);
      this.line(decode(line), isUtf8(line), false);
      if (lf === -1) break;
      start = lf + 1;
    }
  }

  private line(text: string, utf8: boolean, truncated: boolean): void {
    this.lineNumber += 1;
    this.records.line(this.lineNumber === 1 && text.startsWith(BOM) ? text.slice(1) : text, this.lineNumber, utf8, truncated, this.emit);
  }

  private readonly emit: Emit = (line, raw, { utf8, truncated, problem }) => {
    let value = trimLine(raw);
    let reason = problem ?? (!utf8 && value.includes(REPLACEMENT) ? NOT_UTF8 : codeProblem(value));
    if (truncated) reason ??= `longer than ${MAX_CODE_LENGTH} characters`;
    if (value.includes('\0')) value = value.replaceAll('\0', REPLACEMENT);
    if (value.length > MAX_STORED_VALUE) value = value.slice(0, MAX_STORED_VALUE);
    this.out.push(reason === undefined ? { line, value } : { line, value, problem: reason });
  };
}

interface ValueFlags {
  /** false when a line the value came from was not valid UTF-8 */
  utf8: boolean;
  truncated: boolean;
  problem?: string;
}

type Emit = (line: number, raw: string, flags: ValueFlags) => void;

interface RecordReader {
  line(text: string, lineNumber: number, utf8: boolean, truncated: boolean, emit: Emit): void;
  end(emit: Emit): void;
}

class TxtReader implements RecordReader {
  line(text: string, lineNumber: number, utf8: boolean, truncated: boolean, emit: Emit): void {
    if (trimLine(text) !== '') emit(lineNumber, text, { utf8, truncated });
  }

  end(): void {}
}

/** CSV records over physical lines; of each data record only the `code` field is kept. */
class CsvReader implements RecordReader {
  /** the `code` column; undefined until the header is read */
  private codeIndex: number | undefined;
  private header: string[] = [];
  // the record being read
  private open = false;
  private inQuotes = false;
  private startLine = 0;
  private fieldIndex = 0;
  private field = '';
  /** nothing but blanks in the current field so far: a quote here opens a quoted field */
  private fieldBlank = true;
  private code: string | undefined;
  private utf8 = true;
  private truncated = false;

  line(text: string, lineNumber: number, utf8: boolean, truncated: boolean, emit: Emit): void {
    if (!this.open) {
      if (trimLine(text) === '') return;
      this.open = true;
      this.startLine = lineNumber;
      this.fieldIndex = 0;
      this.field = '';
      this.fieldBlank = true;
      this.code = undefined;
      this.utf8 = utf8;
      this.truncated = truncated;
      if (!text.includes('"')) {
        // the common case: no quotes, so the fields are what the commas separate
        const fields = text.split(',');
        if (this.codeIndex === undefined) this.header = fields;
        else this.code = fields[this.codeIndex] ?? '';
        this.endRecord(emit);
        return;
      }
    } else {
      this.append('\n'); // a line break inside quotes
      this.utf8 &&= utf8;
      this.truncated ||= truncated;
    }
    this.scan(text);
    if (!this.inQuotes) {
      this.endField();
      this.endRecord(emit);
    }
  }

  end(emit: Emit): void {
    if (this.open) {
      this.endField();
      this.endRecord(emit, 'unterminated quoted field');
    }
    if (this.codeIndex === undefined) {
      throw new ValidationError('The CSV file is empty: it needs a header line with a `code` column.', [
        { path: 'file', message: 'no header line' },
      ]);
    }
  }

  private scan(text: string): void {
    for (let i = 0; i < text.length; i += 1) {
      const ch = text[i]!;
      if (this.inQuotes) {
        if (ch !== '"') this.append(ch);
        else if (text[i + 1] === '"') {
          this.append('"');
          i += 1;
        } else this.inQuotes = false;
      } else if (ch === ',') this.endField();
      else if (ch === '"' && this.fieldBlank) {
        this.field = '';
        this.fieldBlank = false;
        this.inQuotes = true;
      } else {
        if (ch !== ' ' && ch !== '\t' && ch !== '\r') this.fieldBlank = false;
        this.append(ch);
      }
    }
  }

  private wanted(): boolean {
    return this.codeIndex === undefined || this.fieldIndex === this.codeIndex;
  }

  private append(text: string): void {
    if (!this.wanted()) return;
    if (this.field.length < MAX_LINE_BYTES) this.field += text;
    else this.truncated = true;
  }

  private endField(): void {
    if (this.codeIndex === undefined) this.header.push(this.field);
    else if (this.fieldIndex === this.codeIndex) this.code = this.field;
    this.fieldIndex += 1;
    this.field = '';
    this.fieldBlank = true;
  }

  private endRecord(emit: Emit, problem?: string): void {
    this.open = false;
    this.inQuotes = false;
    if (this.codeIndex !== undefined) {
      emit(this.startLine, this.code ?? '', { utf8: this.utf8, truncated: this.truncated, ...(problem && { problem }) });
      return;
    }
    const names = this.header.map((name) => trimLine(name).toLowerCase());
    this.header = [];
    const index = names.indexOf('code');
    if (index === -1) {
      const found = names.map((name) => JSON.stringify(name)).join(', ');
      throw new ValidationError(`The CSV header (line ${this.startLine}) has no \`code\` column; it has ${found}.`, [
        { path: 'file', message: `the header line has no "code" column (found ${found})` },
      ]);
    }
    this.codeIndex = index;
  }
}

function decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
