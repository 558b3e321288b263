// Shared by the upload (which stages each line in a lane) and ImportCodesWorkflow (which moves
// the lanes in parallel); dependency-free, so that the workflow bundle can import it.

/**
 * Lanes an import's lines are staged in and moved through in parallel. Equal values always
 * share a lane, so within a lane, in line order, the first occurrence of a code still wins.
 */
export const IMPORT_LANES = 2;

/** A (trimmed) value's hash: FNV-1a over its UTF-16 code units. Its lane, and the upload's SeenValues, derive from it. */
export function valueHash(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i += 1) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The lane of a value, from its valueHash. */
export const laneOfHash = (hash: number) => hash % IMPORT_LANES;
