/**
 * The one rule that tells group names apart, for every code path (creating and renaming a group,
 * a template's `promocode('…')`, a segment's group, the Temporal search tags): names are equal
 * when their keys are. The key is computed here only, in JavaScript, and stored in
 * `promo_group.name_key` (collation "C", so no server locale takes part); SQL compares keys, never
 * names.
 *
 * The key: surrounding white space trimmed, NFC, then lower, upper and lower case again with
 * JavaScript's locale-independent full case mappings (the first lower case turns the capital ẞ
 * into ß, which upper-cases to SS), then NFC again. That is a full case fold in effect:
 * - `ΣΑΣ`, `σας` and `σασ` are one name (Σ, σ and the final ς fold together);
 * - `Straße`, `STRAẞE`, `STRASSE` and `strasse` are one name (ß = SS, as a full case fold has it);
 * - `İ` (U+0130) and `i̇` (i followed by U+0307, its lower case) are one name; dotless `ı`
 *   upper-cases to `I`, so `ı` and `i` are one name too (no Turkish special casing: no locale).
 */
export function groupNameKey(name: string): string {
  return name.trim().normalize('NFC').toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}
