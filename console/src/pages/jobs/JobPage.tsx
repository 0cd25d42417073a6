// /jobs/:id: a job's definition, versions, runs, schedules, rules and
// dependencies in tabs, with the actions the caller's rights allow.
import { lazy, Suspense, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../auth/session';
import { saveFile } from '../../lib/download';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { Dialog } from '../../ui/Dialog';
import { TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Tabs } from '../../ui/Tabs';
import { cloneJob, deleteJob, exportText, fetchJob, keys, setActive, type JobView } from './api';
import { DefinitionTab, DependenciesTab, RulesTab, RunsTab, SchedulesTab } from './JobTabs';
import { RunDialog } from './RunDialog';

// The diff (yaml, diff) loads with the Versions tab only.
const VersionsTab = lazy(() => import('./VersionsTab'));

const TABS = [
  { id: 'definition', label: 'Definition' },
  { id: 'versions', label: 'Versions' },
  { id: 'runs', label: 'Runs' },
  { id: 'schedules', label: 'Schedules' },
  { id: 'rules', label: 'Notification rules' },
  { id: 'dependencies', label: 'Dependencies' },
];

export function JobPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: keys.one(id), queryFn: () => fetchJob(id) });
  useTitle(q.data?.name ?? 'Job');
  if (q.isPending) return <Loading what="the job" />;
  if (q.error) {
    return (
      <>
        <PageHeader title="Job" />
        <ProblemAlert error={q.error} />
        <Link to="/jobs">All jobs</Link>
      </>
    );
  }
  return <JobBody job={q.data} />;
}

function JobBody({ job }: { job: JobView }) {
  const { can } = useSession();
  const operator = can('operator');
  const [sp, setSp] = useSearchParams();
  const tab = TABS.some((t) => t.id === sp.get('tab')) ? (sp.get('tab') as string) : 'definition';
  const [dialog, setDialog] = useState<'run' | 'clone' | 'delete' | null>(null);
  const [cloneName, setCloneName] = useState(`${job.name}-copy`);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const allowed = job.allowed;
  const mayRun = operator && allowed.run;
  const mayEdit = operator && allowed.edit;

  const toggle = useMutation({
    mutationFn: () => setActive(job.id, !job.active),
    onSuccess: async (j) => {
      qc.setQueryData(keys.one(job.id), j);
      await qc.invalidateQueries({ queryKey: keys.all });
    },
  });
  const clone = useMutation({
    mutationFn: () => cloneJob(job.id, cloneName.trim()),
    onSuccess: async (j) => {
      await qc.invalidateQueries({ queryKey: keys.all });
      setDialog(null);
      void navigate(`/jobs/${j.id}`);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteJob(job.id),
    onSuccess: async () => {
      qc.removeQueries({ queryKey: keys.one(job.id) });
      await qc.invalidateQueries({ queryKey: keys.all });
      void navigate('/jobs');
    },
  });
  const exporter = useMutation({
    mutationFn: async (format: 'yaml' | 'json') => saveFile(new Blob([await exportText(job.id, format)], { type: format === 'yaml' ? 'application/yaml' : 'application/json' }), `${job.name}.${format}`),
  });

  return (
    <>
      <PageHeader
        title={job.name}
        subtitle={
          <>
            {job.active ? 'Active' : 'Inactive'} · version {job.current_version} · owner {job.owner?.username ?? 'none'}
            {job.description && <> · {job.description}</>}
          </>
        }
        actions={
          <>
            {mayRun && (
              <Button variant="primary" disabled={!job.active} title={job.active ? undefined : 'Inactive jobs cannot run'} onClick={() => setDialog('run')}>
                Run
              </Button>
            )}
            {mayEdit && (
              <Link className="btn" to="edit">
                Edit
              </Link>
            )}
            {operator && <Button onClick={() => setDialog('clone')}>Clone</Button>}
            <Button busy={exporter.isPending} onClick={() => exporter.mutate('yaml')}>
              Export YAML
            </Button>
            <Button busy={exporter.isPending} onClick={() => exporter.mutate('json')}>
              Export JSON
            </Button>
            {mayEdit && (
              <Button busy={toggle.isPending} onClick={() => toggle.mutate()}>
                {job.active ? 'Disable' : 'Enable'}
              </Button>
            )}
            {operator && allowed.delete && (
              <Button variant="danger" onClick={() => setDialog('delete')}>
                Delete
              </Button>
            )}
          </>
        }
      />
      <ProblemAlert error={toggle.error ?? exporter.error} />
      <Tabs
        label="Job"
        tabs={TABS}
        current={tab}
        onChange={(t) => {
          const next = new URLSearchParams(sp);
          next.set('tab', t);
          setSp(next, { replace: true });
        }}
      >
        {tab === 'definition' && <DefinitionTab job={job} />}
        {tab === 'versions' && (
          <Suspense fallback={<Loading what="versions" />}>
            <VersionsTab jobId={job.id} current={job.current_version} />
          </Suspense>
        )}
        {tab === 'runs' && <RunsTab jobId={job.id} />}
        {tab === 'schedules' && <SchedulesTab jobId={job.id} />}
        {tab === 'rules' && <RulesTab job={job} />}
        {tab === 'dependencies' && <DependenciesTab jobId={job.id} />}
      </Tabs>
      {mayRun && <RunDialog job={job} open={dialog === 'run'} onClose={() => setDialog(null)} />}
      {operator && (
        <Dialog
          open={dialog === 'clone'}
          title={`Clone ${job.name}`}
          onClose={() => setDialog(null)}
          footer={
            <>
              <Button onClick={() => setDialog(null)}>Cancel</Button>
              <Button variant="primary" busy={clone.isPending} disabled={cloneName.trim() === ''} onClick={() => clone.mutate()}>
                Clone
              </Button>
            </>
          }
        >
          <TextField label="New job's name" value={cloneName} onChange={(e) => setCloneName(e.target.value)} />
          <ProblemAlert error={clone.error} title="The job was not cloned" />
        </Dialog>
      )}
      {operator && allowed.delete && (
        <ConfirmDialog
          open={dialog === 'delete'}
          title={`Delete ${job.name}?`}
          onClose={() => setDialog(null)}
          onConfirm={() => remove.mutate()}
          busy={remove.isPending}
          error={remove.error}
          errorTitle="The job was not deleted"
        >
          <p>The job and its versions are removed. Past runs stay in the history.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
