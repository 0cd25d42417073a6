import { describe, expect, it } from 'vitest';
import { parseAnsi, stripAnsi } from './ansi';

const E = '\u001b';

describe('parseAnsi', () => {
  it('passes plain text through', () => {
    expect(parseAnsi('hello <b>')).toEqual([{ text: 'hello <b>', cls: '' }]);
  });

  it('colours, bolds and resets', () => {
    expect(parseAnsi(`a${E}[1;31mred${E}[0m b`)).toEqual([
      { text: 'a', cls: '' },
      { text: 'red', cls: 'ansi-fg-1 ansi-bold' },
      { text: ' b', cls: '' },
    ]);
  });

  it('knows bright, background, 256-colour basics and partial resets', () => {
    expect(parseAnsi(`${E}[92;44mx${E}[39my${E}[38;5;3mz${E}[38;2;1;2;3mw${E}[49;m.`)).toEqual([
      { text: 'x', cls: 'ansi-fg-10 ansi-bg-4' },
      { text: 'y', cls: 'ansi-bg-4' },
      { text: 'zw', cls: 'ansi-fg-3 ansi-bg-4' },
      { text: '.', cls: '' },
    ]);
  });

  it('drops other escape sequences', () => {
    expect(parseAnsi(`${E}[2K${E}[?25lok${E}M`)).toEqual([{ text: 'ok', cls: '' }]);
    expect(stripAnsi(`${E}[31mred${E}[m`)).toBe('red');
  });
});
