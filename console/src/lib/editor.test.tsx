// The editor state in a router: problems before sending, one request per
// submit even on a double click, the unsaved-changes guard, and leaving
// after a save without being asked.
import { QueryClient, QueryClientProvider, useMutation } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createMemoryRouter, Link, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TextField } from '../ui/Field';
import { useEditorForm, type Built } from './editor';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

type Body = { name: string };

function NameEditor({ send }: { send: (b: Body) => Promise<Body> }) {
  const { form, set, errors, submitWith, leave } = useEditorForm(() => ({ name: '' }));
  const save = useMutation({ mutationFn: send, onSuccess: () => leave('/saved') });
  const build = (): Built<Body> => (form.name.trim() ? { ok: true, body: { name: form.name.trim() } } : { ok: false, errors: { name: 'A name is required' } });
  return (
    <form onSubmit={submitWith(save, build)} noValidate>
      <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={errors.name} />
      <button type="submit">Save</button>
      <Link to="/elsewhere">Elsewhere</Link>
    </form>
  );
}

function show(send: (b: Body) => Promise<Body>) {
  const router = createMemoryRouter(
    [
      { path: '/edit', element: <NameEditor send={send} /> },
      { path: '/saved', element: <p>Saved page</p> },
      { path: '/elsewhere', element: <p>Elsewhere page</p> },
    ],
    { initialEntries: ['/edit'] },
  );
  render(
    <QueryClientProvider client={new QueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return router;
}

describe('useEditorForm', () => {
  it('shows the problems of a form it cannot build and sends nothing', () => {
    const send = vi.fn(async (b: Body) => b);
    show(send);
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByRole('alert').textContent).toBe('A name is required');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(send).not.toHaveBeenCalled();
  });

  it('sends once however often it is submitted, then leaves without asking', async () => {
    let finish: (b: Body) => void = () => undefined;
    const send = vi.fn((_b: Body) => new Promise<Body>((resolve) => (finish = resolve)));
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    const router = show(send);
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: '  nightly ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    // The earlier problem is gone once the form builds.
    expect(screen.queryByRole('alert')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(send).toHaveBeenCalledTimes(1));
    expect(send.mock.calls[0]?.[0]).toEqual({ name: 'nightly' });
    finish({ name: 'nightly' });
    await screen.findByText('Saved page');
    expect(router.state.location.pathname).toBe('/saved');
    expect(confirm).not.toHaveBeenCalled();
  });

  it('lets a form without edits leave without asking', async () => {
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    show(vi.fn(async (b: Body) => b));
    fireEvent.click(screen.getByRole('link', { name: 'Elsewhere' }));
    await screen.findByText('Elsewhere page');
    expect(confirm).not.toHaveBeenCalled();
  });

  it('keeps an edited form when leaving is refused', async () => {
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    const router = show(vi.fn(async (b: Body) => b));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'draft' } });
    fireEvent.click(screen.getByRole('link', { name: 'Elsewhere' }));
    await waitFor(() => expect(confirm).toHaveBeenCalledTimes(1));
    expect(router.state.location.pathname).toBe('/edit');
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('draft');
  });
});
