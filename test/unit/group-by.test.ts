import { describe, expect, it } from 'vitest';
import { groupBy } from '../../src/domain/group-by.js';

describe('groupBy', () => {
  it('groups items by key in their order, as themselves or as value makes them', () => {
    const items = [{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'a', n: 3 }];
    expect(groupBy(items, (item) => item.k)).toEqual(new Map([['a', [items[0], items[2]]], ['b', [items[1]]]]));
    expect(groupBy(items, (item) => item.k, (item) => item.n)).toEqual(new Map([['a', [1, 3]], ['b', [2]]]));
  });
});
