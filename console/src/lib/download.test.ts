import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dispositionName, saveFile, saveResponse } from './download';

describe('dispositionName', () => {
  it('reads the file name, quoted or not', () => {
    expect(dispositionName('attachment; filename="audit-2031.csv"', 'audit.csv')).toBe('audit-2031.csv');
    expect(dispositionName('attachment; filename=targets.json', 'x')).toBe('targets.json');
    expect(dispositionName('attachment; FILENAME="a.yaml"; size=3', 'x')).toBe('a.yaml');
  });

  it('falls back without a usable header', () => {
    expect(dispositionName(null, 'audit.json')).toBe('audit.json');
    expect(dispositionName('inline', 'audit.json')).toBe('audit.json');
  });
});

describe('saving a file', () => {
  const clicked: { href: string; download: string; attached: boolean }[] = [];
  let revoke: ReturnType<typeof vi.fn>;
  // jsdom has no object URLs: give URL the two the code calls.
  const own = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };

  beforeEach(() => {
    vi.useFakeTimers();
    clicked.length = 0;
    revoke = vi.fn();
    URL.createObjectURL = () => 'blob:console/1';
    URL.revokeObjectURL = revoke as (url: string) => void;
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.getAttribute('href') ?? '', download: this.download, attached: document.body.contains(this) });
    });
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    URL.createObjectURL = own.create;
    URL.revokeObjectURL = own.revoke;
  });

  it('clicks a link to the blob named as asked, then frees the blob', () => {
    saveFile(new Blob(['a,b']), 'targets.csv');
    expect(clicked).toEqual([{ href: 'blob:console/1', download: 'targets.csv', attached: true }]);
    expect(document.querySelector('a[download]')).toBeNull();
    expect(revoke).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(revoke).toHaveBeenCalledWith('blob:console/1');
  });

  it('names a response as the api does, else by the fallback', async () => {
    const named = new Response('x', { headers: { 'Content-Disposition': 'attachment; filename="audit-all.json"' } });
    await expect(saveResponse(named, 'audit.json')).resolves.toBe('audit-all.json');
    await expect(saveResponse(new Response('y'), 'audit.csv')).resolves.toBe('audit.csv');
    expect(clicked.map((c) => c.download)).toEqual(['audit-all.json', 'audit.csv']);
  });
});
