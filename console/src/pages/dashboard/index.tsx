import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { Dashboard } from './Dashboard';
import './dashboard.css';

/** The dashboard room: its pages by path. */
export default function DashboardRoom() {
  return (
    <Routes>
      <Route index element={<Dashboard />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
