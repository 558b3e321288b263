// BENCH_IMPORT_LINES=10000000 npm run bench -- import: a larger file, to see that memory stays flat.
export const LINES = Number(process.env.BENCH_IMPORT_LINES ?? 1_000_000);
const LINES_PER_CHUNK = 4096;

/** Unique codes in no particular order (a multiplicative hash in front), like real ones. */
export const code = (i: number) => `P${(Math.imul(i + 1, 2_654_435_761) >>> 0).toString(36).toUpperCase().padStart(7, '0')}-${i.toString(36).toUpperCase()}`;
/** Line i of the file: 1 % repeat an earlier line, 0.1 % are invalid, the rest are new codes. */
const lineOf = (i: number) => (i % 100 === 99 ? code(i - 37) : i % 1000 === 500 ? `bad code ${i}` : code(i));
export const EXPECTED = { duplicates: Math.floor((LINES + 1) / 100), invalid: Math.floor((LINES + 499) / 1000) };

/** The file, LINES_PER_CHUNK lines a chunk, made as it is sent: never all of it in memory. */
export const fileChunks = () => chunks(lineOf);

/** The codes the import adds, as COPY rows, a chunk at a time. */
export const validRows = (groupId: string) => chunks((i) => (i % 100 !== 99 && i % 1000 !== 500 ? `${groupId}\t${code(i)}` : undefined));

/** Line i of each chunk as `line` makes it (none when undefined), LINES_PER_CHUNK numbers a chunk. */
function* chunks(line: (i: number) => string | undefined): Generator<string> {
  for (let start = 0; start < LINES; start += LINES_PER_CHUNK) {
    let text = '';
    for (let i = start; i < Math.min(LINES, start + LINES_PER_CHUNK); i += 1) {
      const made = line(i);
      if (made !== undefined) text += `${made}\n`;
    }
    yield text;
  }
}
