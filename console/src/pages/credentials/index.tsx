import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { CredentialList } from './CredentialList';
import { CredentialPage } from './CredentialPage';
import { CredentialEditor } from './CredentialEditor';
import './credentials.css';

/** The credentials room: list, a credential's page, create and edit. */
export default function CredentialsRoom() {
  return (
    <Routes>
      <Route index element={<CredentialList />} />
      <Route path="new" element={<CredentialEditor />} />
      <Route path=":id" element={<CredentialPage />} />
      <Route path=":id/edit" element={<CredentialEditor />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
