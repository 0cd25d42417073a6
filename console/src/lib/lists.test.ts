import { describe, expect, it } from 'vitest';
import { toggled } from './lists';

describe('toggled', () => {
  it('adds a newly checked item at the end', () => {
    expect(toggled(['a', 'b'], 'c', true)).toEqual(['a', 'b', 'c']);
    expect(toggled([], 3, true)).toEqual([3]);
  });

  it('never adds an item twice', () => {
    expect(toggled(['a', 'b'], 'a', true)).toEqual(['a', 'b']);
  });

  it('takes an unchecked item out, keeping the order of the rest', () => {
    expect(toggled(['a', 'b', 'c'], 'b', false)).toEqual(['a', 'c']);
    expect(toggled([1, 2], 5, false)).toEqual([1, 2]);
  });

  it('leaves the given list alone', () => {
    const list = ['a'];
    toggled(list, 'b', true);
    toggled(list, 'a', false);
    expect(list).toEqual(['a']);
  });
});
