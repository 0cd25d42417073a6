import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfirmDialog } from './ConfirmDialog';
import { polyfillDialog } from './dialogPolyfill';

beforeAll(polyfillDialog);

afterEach(cleanup);

describe('ConfirmDialog', () => {
  it('keeps or acts as the buttons say', () => {
    const onClose = vi.fn();
    const onConfirm = vi.fn();
    render(
      <ConfirmDialog open title="Delete nightly?" onClose={onClose} onConfirm={onConfirm} busy={false} error={null}>
        <p>It will not fire again.</p>
      </ConfirmDialog>,
    );
    expect(screen.getByRole('dialog', { name: 'Delete nightly?' })).toBeTruthy();
    expect(screen.getByText('It will not fire again.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Keep it' }));
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it('names its buttons as asked, refuses clicks while busy and tells why it failed', () => {
    const onConfirm = vi.fn();
    render(
      <ConfirmDialog
        open
        title="Revoke ci?"
        onClose={() => undefined}
        onConfirm={onConfirm}
        busy
        error={new Error('The token is in use.')}
        errorTitle="The token was not revoked"
        confirmLabel="Revoke token"
        keepLabel="Keep the token"
      >
        <p>Anything using it is refused.</p>
      </ConfirmDialog>,
    );
    const act = screen.getByRole('button', { name: 'Revoke token' }) as HTMLButtonElement;
    expect(act.disabled).toBe(true);
    fireEvent.click(act);
    expect(onConfirm).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Keep the token' })).toBeTruthy();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('The token was not revoked');
    expect(alert.textContent).toContain('The token is in use.');
  });
});
