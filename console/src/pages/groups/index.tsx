import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { GroupEditor } from './GroupEditor';
import { GroupList } from './GroupList';
import { GroupPage } from './GroupPage';
import './groups.css';

/** The groups room: list, a group's page, create and edit. */
export default function GroupsRoom() {
  return (
    <Routes>
      <Route index element={<GroupList />} />
      <Route path="new" element={<GroupEditor />} />
      <Route path=":id" element={<GroupPage />} />
      <Route path=":id/edit" element={<GroupEditor />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
