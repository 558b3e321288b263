// Builtins whose result can be far larger than their inputs (a separator between a million
// items, an indent of a million spaces per line): checked against the budget before they run.
// Every other builtin makes at most a small multiple of what it is given, which the budget
// checks once it is made.

import type { MeasuredValue, RenderBudget } from './template-budget.js';

type Arguments = [MeasuredValue[], Map<string, MeasuredValue>];

/** Filters taking arguments whose result these guards bound; their arguments are evaluated first. */
export const GUARDED_FILTERS: ReadonlySet<string> = new Set(['indent', 'join', 'replace', 'tojson']);

/** Checks the size `operand | name(args)` would have, for the filters that can multiply it. */
export function guardFilter(budget: RenderBudget, name: string, operand: MeasuredValue, [args, kwargs]: Arguments): void {
  const argument = (position: number, keyword: string): MeasuredValue | undefined => args[position] ?? kwargs.get(keyword);
  if (name === 'indent' && typeof operand.value === 'string') {
    const width = numberOf(argument(0, 'width')) ?? 4;
    budget.fits(operand.value.length + lineCount(operand.value) * Math.max(width, 0));
  } else if (name === 'join' && (typeof operand.value === 'string' || Array.isArray(operand.value))) {
    const separator = textOf(argument(0, 'separator')) ?? '';
    budget.fits(budget.sizeOf(operand) + operand.value.length * separator.length);
  } else if (name === 'replace' && typeof operand.value === 'string') {
    guardReplace(budget, operand.value, [...args, ...(kwargs.has('count') ? [kwargs.get('count') as MeasuredValue] : [])]);
  } else if (name === 'tojson') {
    const indent = Math.max(numberOf(kwargs.get('indent')) ?? 0, 0);
    const separators = kwargs.get('separators')?.value;
    const extra = Array.isArray(separators) ? separators.reduce((sum: number, s: MeasuredValue) => sum + (textOf(s)?.length ?? 0), 0) : 0;
    // at most one item per character of its plain size, each indented as deep as the value nests
    const size = budget.sizeOf(operand);
    budget.fits(size * (1 + indent * budget.depthOf(operand) + extra));
  }
}

/** Checks the size `text.replace(old, new[, count])` would have. */
export function guardReplace(budget: RenderBudget, text: string, args: MeasuredValue[]): void {
  const [old, replacement, countArgument] = args;
  const from = textOf(old);
  const to = textOf(replacement);
  if (from === undefined || to === undefined) return; // the library refuses these
  // keyword arguments arrive last, as one object
  const count = countArgument?.value instanceof Map ? countArgument.value.get('count') : countArgument;
  const limit = numberOf(count as MeasuredValue | undefined);
  const possible = from === '' ? text.length + 1 : Math.floor(text.length / from.length);
  const replaced = limit === undefined || limit < 0 ? possible : Math.min(possible, limit);
  budget.fits(text.length + replaced * Math.max(to.length - from.length, 0));
}

function lineCount(text: string): number {
  let lines = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

function numberOf(value: MeasuredValue | undefined): number | undefined {
  return typeof value?.value === 'number' ? value.value : undefined;
}

function textOf(value: MeasuredValue | undefined): string | undefined {
  return typeof value?.value === 'string' ? value.value : undefined;
}
