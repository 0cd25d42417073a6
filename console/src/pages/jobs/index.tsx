import { lazy, Suspense } from 'react';
import { Route, Routes, useParams } from 'react-router';
import { NotFound } from '../NotFound';
import { Loading } from '../../ui/Status';
import { JobPage } from './JobPage';
import { JobsList } from './JobsList';
import './jobs.css';

// The editor (CodeMirror, React Flow) is a chunk of its own.
const JobEditor = lazy(() => import('./editor/JobEditor'));

function EditJob() {
  const { id } = useParams();
  return <JobEditor jobId={id} />;
}

/** The jobs room: its pages by path. */
export default function JobsRoom() {
  return (
    <Suspense fallback={<Loading what="the editor" />}>
      <Routes>
        <Route index element={<JobsList />} />
        <Route path="new" element={<JobEditor />} />
        <Route path=":id" element={<JobPage />} />
        <Route path=":id/edit" element={<EditJob />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Suspense>
  );
}
