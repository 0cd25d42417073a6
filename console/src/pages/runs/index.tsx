import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { RunPage } from './RunPage';
import { RunsList } from './RunsList';
import './runs.css';

/** The runs room: the list, and a run's page with its live output. */
export default function RunsRoom() {
  return (
    <Routes>
      <Route index element={<RunsList />} />
      <Route path=":id" element={<RunPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
