// The second factor: asked for only when the api says so, and switching
// between an authenticator code and a recovery code.
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/errors';
import { SignInForm } from './SignInForm';

const signIn = vi.fn();
vi.mock('../../auth/session', () => ({ useSession: () => ({ signIn }) }));

afterEach(() => {
  cleanup();
  signIn.mockReset();
});

const mfaRequired = () => new ApiError({ type: 'https://opsconductor.dev/problems/mfa-required', title: 'A second factor is needed', status: 401 });

describe('SignInForm', () => {
  it('asks for an authentication code once the api wants one, and sends it without spaces', async () => {
    signIn.mockRejectedValueOnce(mfaRequired()).mockResolvedValueOnce(undefined);
    const onDone = vi.fn();
    render(<SignInForm onDone={onDone} />);
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'ann' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pw' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = await screen.findByLabelText('Authentication code');
    expect(document.activeElement).toBe(code);
    expect(screen.queryByRole('alert')).toBeNull();
    fireEvent.change(code, { target: { value: '123 456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(signIn).toHaveBeenLastCalledWith({ username: 'ann', password: 'pw', totp_code: '123456', recovery_code: undefined });
  });

  it('switches to a recovery code and back, each time with an empty, focused field', async () => {
    signIn.mockRejectedValueOnce(mfaRequired()).mockResolvedValueOnce(undefined);
    render(<SignInForm username="ann" onDone={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    fireEvent.change(await screen.findByLabelText('Authentication code'), { target: { value: '99' } });
    // A browser focuses a clicked button; the new field must take the focus from it.
    const toRecovery = screen.getByRole('button', { name: 'Use a recovery code' });
    toRecovery.focus();
    fireEvent.click(toRecovery);
    const recovery = screen.getByLabelText('Recovery code') as HTMLInputElement;
    expect(recovery.value).toBe('');
    expect(document.activeElement).toBe(recovery);
    expect(screen.queryByLabelText('Authentication code')).toBeNull();
    fireEvent.change(recovery, { target: { value: ' abcd-efgh ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(signIn).toHaveBeenCalledTimes(2));
    expect(signIn).toHaveBeenLastCalledWith({ username: 'ann', password: '', totp_code: undefined, recovery_code: 'abcd-efgh' });
    const toCode = screen.getByRole('button', { name: 'Use an authentication code' });
    toCode.focus();
    fireEvent.click(toCode);
    const code = screen.getByLabelText('Authentication code') as HTMLInputElement;
    expect(code.value).toBe('');
    expect(code.inputMode).toBe('numeric');
    expect(document.activeElement).toBe(code);
  });

  it('shows a refusal that is not about a second factor', async () => {
    signIn.mockRejectedValueOnce(new ApiError({ title: 'Wrong user name or password', status: 401 }));
    render(<SignInForm onDone={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Not signed in');
    expect(screen.queryByLabelText('Authentication code')).toBeNull();
  });
});
