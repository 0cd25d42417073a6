import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { ImportPage } from './ImportPage';
import { TargetEditor } from './TargetEditor';
import { TargetList } from './TargetList';
import { TargetPage } from './TargetPage';
import './targets.css';

/** The targets room: the inventory, a target's page, create, edit and import. */
export default function TargetsRoom() {
  return (
    <Routes>
      <Route index element={<TargetList />} />
      <Route path="new" element={<TargetEditor />} />
      <Route path="import" element={<ImportPage />} />
      <Route path=":id" element={<TargetPage />} />
      <Route path=":id/edit" element={<TargetEditor />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
