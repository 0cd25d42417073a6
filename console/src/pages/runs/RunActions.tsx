// Cancel and re-run, for operators: each behind a dialog that says what
// will happen, refuses a second click while the first is on its way, and
// shows the API's problem when refused (what was typed stays).
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useIdempotencyKey } from '../../lib/idempotency';
import { shortId } from '../../lib/format';
import { Button } from '../../ui/Button';
import { Dialog } from '../../ui/Dialog';
import { CheckboxField, TextField } from '../../ui/Field';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { cancelRun, keys, rerun, secretNames, type RunView } from './queries';

/** Asks before cancelling `run`; closes once the API took the request. */
export function CancelDialog({ run, open, onClose }: { run: RunView; open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => cancelRun(run.id),
    onSuccess: async (r) => {
      qc.setQueryData(keys.one(run.id), (old: RunView | undefined) => (old ? { ...old, ...r, retries: old.retries } : r));
      await qc.invalidateQueries({ queryKey: keys.all });
      onClose();
    },
  });
  return (
    <Dialog
      open={open}
      title={`Cancel run ${shortId(run.id)}?`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Keep it running</Button>
          <Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>
            {cancel.isPending ? 'Cancelling…' : 'Cancel run'}
          </Button>
        </>
      }
    >
      <p>
        The run of <strong>{run.job_name}</strong> stops: running commands are killed and steps not started are not run.
      </p>
      <ProblemAlert error={cancel.error} title="The run was not cancelled" />
    </Dialog>
  );
}

/** Runs `run`'s version again with its parameters and targets; secret
 * parameters may be given again (the API replays them only to who started
 * the run). Opens the new run. */
export function RerunDialog({ run, open, onClose }: { run: RunView; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title={`Re-run ${run.job_name}`} onClose={onClose}>
      <RerunForm run={run} onClose={onClose} />
    </Dialog>
  );
}

function RerunForm({ run, onClose }: { run: RunView; onClose: () => void }) {
  const secrets = secretNames(run);
  const [values, setValues] = useState<Record<string, string>>({});
  const [override, setOverride] = useState(false);
  const idem = useIdempotencyKey();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const start = useMutation({
    mutationFn: () => {
      const parameters: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) if (v) parameters[k] = v;
      return rerun(run.id, { parameters, override_window: override }, idem.key());
    },
    onSuccess: async (a) => {
      idem.next();
      await qc.invalidateQueries({ queryKey: keys.all });
      onClose();
      void navigate(`/runs/${a.run_id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!start.isPending) start.mutate();
  };
  return (
    <form className="form runs-rerun-form" onSubmit={submit} noValidate>
      <p>
        Version {run.job_version} runs again with the same parameters and targets as run <code>{shortId(run.id)}</code>.
      </p>
      {secrets.length > 0 && (
        <fieldset className="runs-fieldset">
          <legend>Secret parameters</legend>
          <p className="field-hint">Replayed when you started the run; otherwise give them again.</p>
          {secrets.map((n) => (
            <TextField
              key={n}
              label={n}
              type="password"
              autoComplete="new-password"
              value={values[n] ?? ''}
              onChange={(e) => {
                idem.next();
                setValues((v) => ({ ...v, [n]: e.target.value }));
              }}
            />
          ))}
        </fieldset>
      )}
      <CheckboxField
        label="Start even inside a maintenance window"
        checked={override}
        onChange={(e) => {
          idem.next();
          setOverride(e.target.checked);
        }}
      />
      <ProblemAlert error={start.error} title="The run was not started" />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={start.isPending}>
          {start.isPending ? 'Starting…' : 'Re-run'}
        </Button>
      </div>
    </form>
  );
}
