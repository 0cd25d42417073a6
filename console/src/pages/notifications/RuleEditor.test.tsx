// The rule editor in a DOM with the API answered by a stub: a stored rule's
// conditions and user recipients shown, edited and saved.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReactNode } from 'react';
import type { Schemas } from '../../api/types';
import { SessionProvider, useSession } from '../../auth/session';
import NotificationsRoom from './index';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const page = (items: unknown[]) => ({ items, total: items.length, limit: 500, offset: 0 });

const RULE: Schemas['RuleView'] = {
  id: 'r1',
  name: 'nightly',
  enabled: true,
  triggers: ['run_failed', 'run_slow'],
  conditions: { job_owner_ids: ['u2'], schedule_ids: ['s1'], min_duration_ms: 60000, time_of_day: { from: '22:00', to: '06:00', zone: 'America/New_York', days: ['sat'] }, slow_margin_pct: 80 },
  send_to: [{ channel_id: 'mail', to: [{ type: 'user', user_id: 'u1' }, { type: 'email', address: 'ops@x' }] }],
  recovery: true,
  revision: 1,
  created_at: '',
  updated_at: '',
};

/** Answers the editor's reads; records the bodies `PUT`. */
function stubApi() {
  const saved: unknown[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://console.test').pathname;
      const method = init?.method ?? 'GET';
      if (path === '/api/v1/auth/console/refresh') return json({ access_token: 'access', expires_in: 900 });
      if (path === '/api/v1/auth/verify') return json({ sub: 'u1', username: 'ann', role: 'admin', kind: 'user' });
      if (path === '/api/v1/notifications/rules/r1' && method === 'PUT') {
        saved.push(JSON.parse(String(init?.body)));
        return json(RULE);
      }
      if (path === '/api/v1/notifications/rules/r1') return json(RULE);
      if (path === '/api/v1/notifications/channels') return json([{ id: 'mail', name: 'ops mail', kind: 'email' }]);
      if (path === '/api/v1/users') return json(page([{ id: 'u1', username: 'ann', display_name: 'ann' }, { id: 'u2', username: 'bob', display_name: 'Bob B' }, { id: 'u3', username: 'cy', display_name: 'cy' }]));
      if (path === '/api/v1/schedules') return json(page([{ id: 's1', name: 'nightly backup' }, { id: 's2', name: 'hourly sync' }]));
      if (path === '/api/v1/jobs' || path === '/api/v1/target-groups') return json(page([]));
      return json({ title: 'Not found', status: 404 }, 404);
    }),
  );
  return saved;
}

function SignedIn({ children }: { children: ReactNode }) {
  return useSession().state.kind === 'signed-in' ? <>{children}</> : null;
}

function renderAt(path: string) {
  const router = createMemoryRouter([{ path: '/notifications/*', element: <SignedIn><NotificationsRoom /></SignedIn> }], { initialEntries: [path] });
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>,
  );
}

describe('the rule editor', () => {
  it('shows the stored conditions and users, labels every field, and saves what was edited', async () => {
    const saved = stubApi();
    renderAt('/notifications/rules/r1/edit');
    await screen.findByRole('heading', { name: 'Edit nightly', level: 1 });
    const recipients = await screen.findByRole('group', { name: 'Users' });
    await within(recipients).findByText('ann');
    const owners = screen.getByRole('group', { name: 'Jobs owned by (none: anyone)' });
    expect(within(owners).getByText('bob (Bob B)')).toBeTruthy();
    expect((await screen.findByRole('checkbox', { name: 'nightly backup' }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('22:00');
    expect((screen.getByLabelText('In the time zone') as HTMLSelectElement).value).toBe('America/New_York');
    expect((screen.getByRole('checkbox', { name: 'sat' }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('At least (seconds)') as HTMLInputElement).value).toBe('60');
    for (const el of document.querySelectorAll('form input, form select, form textarea')) {
      const named = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label');
      expect(named, el.outerHTML).toBeTruthy();
    }

    // The slow margin goes with the run_slow trigger.
    expect((screen.getByLabelText(/Slow means/) as HTMLInputElement).value).toBe('80');
    fireEvent.click(screen.getByRole('checkbox', { name: 'run slow' }));
    expect(screen.queryByLabelText(/Slow means/)).toBeNull();

    // One recipient out, another in; an owner out; the lower bound and the hours cleared.
    fireEvent.click(within(recipients).getByRole('button', { name: 'Remove ann' }));
    fireEvent.change(within(recipients).getByLabelText('User to add'), { target: { value: 'u3' } });
    fireEvent.click(within(recipients).getByRole('button', { name: 'Add user' }));
    fireEvent.click(within(owners).getByRole('button', { name: 'Remove bob (Bob B)' }));
    fireEvent.change(screen.getByLabelText('At least (seconds)'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Clear the hours' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]).toMatchObject({
      triggers: ['run_failed'],
      conditions: { job_owner_ids: [], schedule_ids: ['s1'], min_duration_ms: null, max_duration_ms: null, time_of_day: null, slow_margin_pct: null },
      send_to: [{ channel_id: 'mail', to: [{ type: 'user', user_id: 'u3' }, { type: 'email', address: 'ops@x' }] }],
    });
  });

  it('shows a problem of the hours next to its field', async () => {
    const saved = stubApi();
    renderAt('/notifications/rules/r1/edit');
    const until = await screen.findByLabelText('Until');
    fireEvent.change(until, { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(until.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(String(until.getAttribute('aria-describedby')).split(' ').pop() ?? '')?.textContent).toBe('Give the end as well.');
    expect(saved).toHaveLength(0);
  });
});
