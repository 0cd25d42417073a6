// Small list helpers for forms that choose several of something.

/** `list` with `item` added (`on`, at the end, once) or taken out: what a
 * checkbox among several does to the chosen ones. */
export function toggled<T>(list: readonly T[], item: T, on: boolean): T[] {
  if (on) return list.includes(item) ? [...list] : [...list, item];
  return list.filter((x) => x !== item);
}
