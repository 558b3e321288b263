/** One RFC 4180 line; fields with a comma, quote or line break are quoted. */
export function toCsvRow(fields: readonly (string | number | undefined | null)[]): string {
  return `${fields.map((field) => quote(field == null ? '' : String(field))).join(',')}\r\n`;
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}
