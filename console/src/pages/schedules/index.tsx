import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { CalendarPage } from './CalendarPage';
import { ScheduleEditor } from './ScheduleEditor';
import { ScheduleList } from './ScheduleList';
import { SchedulePage } from './SchedulePage';
import { SchedulerPage } from './SchedulerPage';
import { WindowEditor } from './WindowEditor';
import { WindowList } from './WindowList';
import './schedules.css';

/** The schedules room: schedules, the calendar of fires, maintenance windows and the scheduler. */
export default function SchedulesRoom() {
  return (
    <Routes>
      <Route index element={<ScheduleList />} />
      <Route path="calendar" element={<CalendarPage />} />
      <Route path="new" element={<ScheduleEditor />} />
      <Route path="windows" element={<WindowList />} />
      <Route path="windows/new" element={<WindowEditor />} />
      <Route path="windows/:id/edit" element={<WindowEditor />} />
      <Route path="scheduler" element={<SchedulerPage />} />
      <Route path=":id" element={<SchedulePage />} />
      <Route path=":id/edit" element={<ScheduleEditor />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
