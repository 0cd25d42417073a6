// The room in a DOM with the API answered by a stub: what each role is
// offered, and a token's secret shown once and forgotten after closing.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReactNode } from 'react';
import { SessionProvider, useSession, type Role } from '../../auth/session';
import { polyfillDialog } from '../../ui/dialogPolyfill';
import AdminRoom from './index';

const SECRET = 'opsc_abcdefghijklmnopqrstuvwxyz0123456789';

beforeAll(polyfillDialog);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** A stub of the API for a user of `role`; records the token creations it was sent. */
function stubApi(role: Role) {
  const created: unknown[] = [];
  const tokens: unknown[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const url = new URL(input, 'http://console.test');
      const method = init?.method ?? 'GET';
      if (url.pathname === '/api/v1/auth/console/refresh') return json({ access_token: 'access', expires_in: 900 });
      if (url.pathname === '/api/v1/auth/verify') return json({ sub: 'u1', username: 'ann', role, kind: 'user' });
      if (url.pathname === '/api/v1/api-tokens' && method === 'GET') return json({ items: tokens });
      if (url.pathname === '/api/v1/api-tokens' && method === 'POST') {
        const body = JSON.parse(String(init?.body)) as { name: string; role: Role };
        created.push(body);
        const token = { id: 't1', user_id: 'u1', name: body.name, role: body.role, prefix: SECRET.slice(0, 8), created_at: new Date().toISOString(), expires_at: null };
        tokens.push(token);
        return json({ token, secret: SECRET }, 201);
      }
      if (url.pathname === '/api/v1/workers') return json({ items: [] });
      return json({ title: 'Forbidden', status: 403 }, 403);
    }),
  );
  return created;
}

/** What RequireSession does in the app: the room only once signed in. */
function SignedIn({ children }: { children: ReactNode }) {
  return useSession().state.kind === 'signed-in' ? <>{children}</> : null;
}

function renderAt(path: string) {
  const room = (
    <SignedIn>
      <AdminRoom />
    </SignedIn>
  );
  const router = createMemoryRouter([{ path: '/admin/*', element: room }], { initialEntries: [path] });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queries}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>,
  );
  return router;
}

describe('the admin room', () => {
  it('offers a viewer only its tokens and the workers, and refuses an admin section plainly', async () => {
    stubApi('viewer');
    const router = renderAt('/admin');
    await screen.findByRole('heading', { name: 'API tokens', level: 1 });
    expect(router.state.location.pathname).toBe('/admin/tokens');
    const nav = screen.getByRole('navigation', { name: 'Administration' });
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['API tokens', 'Workers']);
    // A viewer may grant only the viewer role, and never a token without expiry.
    const roles = within(screen.getByLabelText('Token role')).getAllByRole('option');
    expect(roles.map((o) => o.textContent)).toEqual(['viewer']);
    expect(screen.queryByRole('option', { name: /Never expires/ })).toBeNull();

    await router.navigate('/admin/audit');
    await screen.findByRole('heading', { name: 'Not allowed', level: 1 });
    expect(screen.getByText(/Only admins manage/)).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('shows a new token once, and forgets it after closing', async () => {
    const created = stubApi('admin');
    renderAt('/admin/tokens');
    await screen.findByRole('heading', { name: 'API tokens', level: 1 });
    fireEvent.change(screen.getByLabelText('Token name'), { target: { value: 'ci' } });
    fireEvent.change(screen.getByLabelText('Expires'), { target: { value: '30' } });
    const submit = screen.getByRole('button', { name: 'Create token' });
    fireEvent.click(submit);
    // A second click while the first is pending sends nothing more.
    fireEvent.click(submit);
    const secret = await screen.findByDisplayValue(SECRET);
    expect(secret).toBeTruthy();
    expect(created).toEqual([{ name: 'ci', role: 'admin', expires_in_days: 30 }]);
    expect(screen.getByText('This is the only time the token is shown.')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'I have copied it, close' }));
    await waitFor(() => expect(screen.queryByDisplayValue(SECRET)).toBeNull());
    expect(document.body.innerHTML).not.toContain(SECRET);
    await screen.findByRole('cell', { name: 'ci' });
  });
});
