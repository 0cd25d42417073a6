// The job editor: a visual builder and a YAML/JSON view of one definition
// held by a reducer. Save creates (POST) or updates (PUT); a refusal's field
// errors land on the node and at the key in the text.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../api/client';
import { ApiError } from '../../../api/errors';
import type { FieldError, Schemas } from '../../../api/types';
import { useSession } from '../../../auth/session';
import { useTitle } from '../../../lib/title';
import { useUnsavedChanges } from '../../../lib/unsaved';
import { Button } from '../../../ui/Button';
import { PageHeader } from '../../../ui/PageHeader';
import { ProblemAlert } from '../../../ui/ProblemAlert';
import { Loading } from '../../../ui/Status';
import { Tabs } from '../../../ui/Tabs';
import { Builder } from './Builder';
import { CodeEditor } from './CodeEditor';
import { tidy } from './defaults';
import { placeErrors, type PlacedErrors } from './errors';
import { asJobDoc, editorReducer, emptyJob, isDirty, type JobDoc } from './model';
import { useStepTypes } from './stepTypes';
import type { Format } from './text';
import './editor.css';

type JobView = Schemas['JobView'];

const TABS = [
  { id: 'builder', label: 'Builder' },
  { id: 'yaml', label: 'YAML / JSON' },
];

/** Creates a job (no `jobId`) or edits one. */
export default function JobEditor({ jobId }: { jobId?: string }) {
  const { can } = useSession();
  const job = useQuery({
    queryKey: ['job', jobId],
    queryFn: () => api.get<JobView>(`/api/v1/jobs/${jobId ?? ''}`),
    enabled: jobId !== undefined,
  });
  useTitle(jobId ? `Edit ${job.data?.name ?? 'job'}` : 'New job');
  if (!can('operator')) {
    return (
      <>
        <PageHeader title={jobId ? 'Edit job' : 'New job'} />
        <p className="alert alert-info">Your role may view jobs but not create or edit them.</p>
      </>
    );
  }
  if (jobId && job.isPending) return <Loading what="the job" />;
  if (jobId && job.error) return <ProblemAlert error={job.error} title="The job could not be loaded" />;
  const initial = jobId && job.data ? tidy(asJobDoc(job.data.definition)) : emptyJob();
  return <EditorPage key={jobId ?? 'new'} jobId={jobId} initial={initial} title={jobId ? `Edit ${job.data?.name ?? ''}` : 'New job'} />;
}

function EditorPage({ jobId, initial, title }: { jobId?: string; initial: JobDoc; title: string }) {
  const [state, dispatch] = useReducer(editorReducer, { doc: initial, origin: 'load' });
  const [baseline, setBaseline] = useState(initial);
  const [tab, setTab] = useState('builder');
  const [format, setFormat] = useState<Format>('yaml');
  const [textValid, setTextValid] = useState(true);
  const [placed, setPlaced] = useState<PlacedErrors>({ steps: {}, job: [] });
  const [serverErrors, setServerErrors] = useState<FieldError[]>([]);
  const [goTo, setGoTo] = useState<string | null>(null);
  const stepTypes = useStepTypes();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const dirty = isDirty(state.doc, baseline);
  useUnsavedChanges(dirty);
  const sent = useRef<JobDoc>(initial);

  const save = useMutation({
    mutationFn: (doc: JobDoc) => {
      sent.current = doc;
      return jobId ? api.put<JobView>(`/api/v1/jobs/${jobId}`, doc) : api.post<JobView>('/api/v1/jobs', doc);
    },
    onSuccess: (view) => {
      setBaseline(sent.current);
      setPlaced({ steps: {}, job: [] });
      setServerErrors([]);
      void qc.invalidateQueries({ queryKey: ['jobs'] });
      void qc.invalidateQueries({ queryKey: ['job', view.id] });
      setGoTo(view.id);
    },
    onError: (e) => {
      const errors = e instanceof ApiError ? e.fieldErrors : [];
      setPlaced(placeErrors(errors, sent.current));
      setServerErrors(errors);
    },
  });

  // Leave after the save made the page clean, so the unsaved-changes guard stays quiet.
  useEffect(() => {
    if (goTo && !isDirty(sent.current, baseline)) void navigate(`/jobs/${goTo}`);
  }, [goTo, baseline, navigate]);

  const onDoc = useCallback((doc: JobDoc) => dispatch({ kind: 'replace', doc }), []);
  const errorCount = useMemo(() => Object.values(placed.steps).reduce((n, es) => n + es.length, 0) + placed.job.length, [placed]);

  return (
    <div className="job-editor">
      <PageHeader
        title={title}
        subtitle={dirty ? 'Unsaved changes' : jobId ? 'Saved' : undefined}
        actions={
          <>
            <Link className="btn btn-ghost" to={jobId ? `/jobs/${jobId}` : '/jobs'}>
              Cancel
            </Link>
            <Button variant="primary" busy={save.isPending} disabled={!textValid} onClick={() => save.mutate(tidy(state.doc))}>
              {jobId ? 'Save' : 'Create job'}
            </Button>
          </>
        }
      />
      {!textValid && <p className="alert alert-info">The text does not parse: fix it (see the marks in the YAML view) before saving.</p>}
      {save.error && <ProblemAlert error={save.error} title={errorCount ? `The job was refused (${errorCount} ${errorCount === 1 ? 'problem' : 'problems'})` : undefined} />}
      <Tabs tabs={TABS} current={tab} onChange={setTab} label="Editor views">
        {tab === 'builder' ? (
          <Builder doc={state.doc} dispatch={dispatch} stepTypes={stepTypes} placed={placed} />
        ) : (
          <div className="yaml-view">
            <div className="row" role="group" aria-label="Format">
              <Button variant={format === 'yaml' ? 'primary' : 'secondary'} aria-pressed={format === 'yaml'} disabled={!textValid} onClick={() => setFormat('yaml')}>
                YAML
              </Button>
              <Button variant={format === 'json' ? 'primary' : 'secondary'} aria-pressed={format === 'json'} disabled={!textValid} onClick={() => setFormat('json')}>
                JSON
              </Button>
              {stepTypes.error && <span className="muted small">Completion of step settings is unavailable: the step-type catalogue did not load.</span>}
            </div>
            <CodeEditor
              doc={state.doc}
              ownChange={state.origin === 'yaml'}
              format={format}
              stepTypes={stepTypes.data}
              serverErrors={serverErrors}
              onDoc={onDoc}
              onValidity={setTextValid}
              label={`Job definition (${format.toUpperCase()})`}
            />
          </div>
        )}
      </Tabs>
    </div>
  );
}
