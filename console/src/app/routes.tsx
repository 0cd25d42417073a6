// Every page, loaded when first visited (one chunk per room).
import type { RouteObject } from 'react-router';
import type { ComponentType } from 'react';
import { RequireSession } from './RequireSession';
import { Layout } from '../shell/Layout';
import { RouteError } from './RouteError';

const room = (load: () => Promise<{ default: ComponentType }>) => async () => ({ Component: (await load()).default });

export const routes: RouteObject[] = [
  { path: '/login', lazy: room(() => import('../pages/login/LoginPage')), errorElement: <RouteError /> },
  {
    element: (
      <RequireSession>
        <Layout />
      </RequireSession>
    ),
    errorElement: <RouteError />,
    children: [
      { index: true, lazy: room(() => import('../pages/dashboard')) },
      { path: 'jobs/*', lazy: room(() => import('../pages/jobs')) },
      { path: 'runs/*', lazy: room(() => import('../pages/runs')) },
      { path: 'targets/*', lazy: room(() => import('../pages/targets')) },
      { path: 'groups/*', lazy: room(() => import('../pages/groups')) },
      { path: 'credentials/*', lazy: room(() => import('../pages/credentials')) },
      { path: 'schedules/*', lazy: room(() => import('../pages/schedules')) },
      { path: 'notifications/*', lazy: room(() => import('../pages/notifications')) },
      { path: 'admin/*', lazy: room(() => import('../pages/admin')) },
      { path: 'profile/*', lazy: room(() => import('../pages/profile')) },
      { path: '*', lazy: async () => ({ Component: (await import('../pages/NotFound')).NotFound }) },
    ],
  },
];
