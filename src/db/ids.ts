/** Database ids are bigints, strings in JSON; anything else names no row. */
export function isId(value: string): boolean {
  return /^[1-9]\d{0,17}$/.test(value);
}
