// Start a run: a form from the job's typed parameters, its default targets
// or others picked, a dry-run preview, and one run per intent (the
// Idempotency-Key is kept until a run was accepted).
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/errors';
import { useIdempotencyKey } from '../../lib/idempotency';
import { Button } from '../../ui/Button';
import { SelectField } from '../../ui/Field';
import { Dialog } from '../../ui/Dialog';
import { PickList, type PickListLook } from '../../ui/PickList';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { fetchGroups, fetchTargets, keys, previewRun, startRun, type JobView, type Preview, type RunRequest, type TargetSelection } from './api';
import { initialValues, parameterErrors, toParameters, type FormValues, type ParamSpec } from './params';
import { ParamField, type ParamLook } from './ParamField';

/** The run dialog's parameter fields: a secret goes with the request only. */
const RUN_LOOK: ParamLook = {
  secretHint: 'Secret: sent once, never shown again.',
  choices: { className: 'jobs-choices', noneClassName: 'muted' },
  choicesHint: true,
};

const PICK_LOOK: PickListLook = { className: 'jobs-picklist', noneClassName: 'muted' };

function PreviewView({ p }: { p: Preview }) {
  return (
    <section className="card jobs-preview" aria-label="Dry run">
      <h3>Dry run: version {p.version}</h3>
      {p.targets.length === 0 ? (
        <p>Runs once on a worker: {p.worker_steps.map((s) => `${s.id} (${s.type})`).join(', ')}</p>
      ) : (
        <ul>
          {p.targets.map((t) => (
            <li key={t.id}>
              <strong>{t.name}</strong> <span className="muted">{t.address}, pool {t.pool}</span>: {t.steps.map((s) => `${s.id} (${s.type})`).join(', ')}
            </li>
          ))}
        </ul>
      )}
      {p.checks.length > 0 && (
        <details>
          <summary>Checks passed ({p.checks.length})</summary>
          <ul>
            {p.checks.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

export function RunDialog({ job, open, onClose }: { job: JobView; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title={`Run ${job.name}`} onClose={onClose}>
      <RunForm job={job} onClose={onClose} />
    </Dialog>
  );
}

function RunForm({ job, onClose }: { job: JobView; onClose: () => void }) {
  const specs = job.definition.parameters ?? {};
  const [values, setValues] = useState<FormValues>(() => initialValues(specs));
  const [local, setLocal] = useState<Record<string, string>>({});
  const [mode, setMode] = useState<'default' | 'pick'>('default');
  const [sel, setSel] = useState<{ targets: string[]; groups: string[] }>({ targets: [], groups: [] });
  const idem = useIdempotencyKey();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const targets = useQuery({ queryKey: keys.targets, queryFn: fetchTargets, enabled: mode === 'pick' });
  const groups = useQuery({ queryKey: keys.groups, queryFn: fetchGroups, enabled: mode === 'pick' });

  const request = (): RunRequest | null => {
    const c = toParameters(specs, values);
    setLocal(c.errors);
    if (Object.keys(c.errors).length > 0) return null;
    const t: TargetSelection | null = mode === 'pick' ? { targets: sel.targets, groups: sel.groups, tags: [] } : null;
    return { parameters: c.parameters, targets: t };
  };
  const preview = useMutation({ mutationFn: (body: RunRequest) => previewRun(job.id, body) });
  const start = useMutation({
    mutationFn: (body: RunRequest) => startRun(job.id, body, idem.key()),
    onSuccess: async (a) => {
      idem.next();
      await qc.invalidateQueries({ queryKey: ['runs'] });
      await qc.invalidateQueries({ queryKey: keys.all });
      onClose();
      void navigate(`/runs/${a.run_id}`);
    },
  });
  const serverErrors = (e: unknown) => (e instanceof ApiError ? parameterErrors(e.fieldErrors).byName : {});
  const fromServer = { ...serverErrors(preview.error), ...serverErrors(start.error) };
  const change = (patch: Partial<FormValues>) => {
    // A changed request is a new intent: another key, so the API does not
    // answer with the first request's outcome.
    idem.next();
    setValues((v) => ({ ...v, ...patch }) as FormValues);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (start.isPending) return;
    const body = request();
    if (body) start.mutate(body);
  };
  const names = Object.keys(specs);
  const pickEmpty = mode === 'pick' && sel.targets.length === 0 && sel.groups.length === 0;
  return (
    <form className="form jobs-run-form" onSubmit={submit} noValidate>
      {names.length === 0 ? (
        <p className="muted">This job takes no parameters.</p>
      ) : (
        <fieldset className="jobs-fieldset">
          <legend>Parameters</legend>
          {names.map((n) => (
            <ParamField key={n} name={n} spec={specs[n] as ParamSpec} value={values[n] ?? ''} error={local[n] ?? fromServer[n]} onChange={(v) => change({ [n]: v })} look={RUN_LOOK} />
          ))}
        </fieldset>
      )}
      <fieldset className="jobs-fieldset">
        <legend>Targets</legend>
        <SelectField
          label="Run on"
          value={mode}
          onChange={(e) => {
            idem.next();
            setMode(e.target.value as 'default' | 'pick');
          }}
          options={[
            { value: 'default', label: job.definition.targets ? "The job's targets" : 'As the job defines (no default targets)' },
            { value: 'pick', label: 'Targets and groups I choose' },
          ]}
        />
        {mode === 'pick' && (
          <>
            <ProblemAlert error={targets.error ?? groups.error} />
            {targets.isPending || groups.isPending ? (
              <Loading what="targets" />
            ) : (
              <div className="jobs-pick">
                <PickList legend="Targets" items={targets.data?.items ?? []} chosen={sel.targets} onChange={(ids) => (idem.next(), setSel({ ...sel, targets: ids }))} look={PICK_LOOK} />
                <PickList legend="Groups" items={groups.data?.items ?? []} chosen={sel.groups} onChange={(ids) => (idem.next(), setSel({ ...sel, groups: ids }))} look={PICK_LOOK} />
              </div>
            )}
          </>
        )}
      </fieldset>
      <ProblemAlert error={preview.error} title="The dry run was refused" />
      {preview.data && !preview.error && <PreviewView p={preview.data} />}
      <ProblemAlert error={start.error} title="The run was not started" />
      <div className="form-actions">
        <Button type="button" onClick={onClose}>
          Cancel
        </Button>
        <Button
          type="button"
          busy={preview.isPending}
          disabled={pickEmpty}
          onClick={() => {
            const body = request();
            if (body) preview.mutate(body);
          }}
        >
          Preview
        </Button>
        <Button type="submit" variant="primary" busy={start.isPending} disabled={pickEmpty}>
          Start run
        </Button>
      </div>
    </form>
  );
}
