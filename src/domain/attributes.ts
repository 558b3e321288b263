// Customer attributes are JSON objects. Anything that walks them recursively (rendering a
// template, storing them) would overflow the stack on a deep enough value, so lists and objects
// may nest only so deep.

export const MAX_ATTRIBUTE_DEPTH = 32;

export type AttributePath = (string | number)[];

/**
 * The keys leading to the first list or object nested more than MAX_ATTRIBUTE_DEPTH levels
 * below `attributes`, or undefined when there is none. Walks without recursion.
 */
export function tooDeepAttribute(attributes: unknown): AttributePath | undefined {
  const pending: { value: unknown; path: AttributePath }[] = [{ value: attributes, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length > MAX_ATTRIBUTE_DEPTH) return path;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

export const ATTRIBUTE_DEPTH_MESSAGE = `nested more than ${MAX_ATTRIBUTE_DEPTH} levels deep`;

/** Why these attributes cannot be used, naming where they nest too deep; undefined when they can. */
export function attributeDepthProblem(attributes: unknown): string | undefined {
  const path = tooDeepAttribute(attributes);
  return path && `${ATTRIBUTE_DEPTH_MESSAGE} (at ${formatAttributePath(path)})`;
}

/** `a.b[2].c`, cut short after a few keys. */
export function formatAttributePath(path: AttributePath, shown = 8): string {
  const text = path
    .slice(0, shown)
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`))
    .join('');
  return path.length > shown ? `${text}…` : text;
}
