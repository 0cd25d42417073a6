// The visual builder: the palette, the canvas, and the side panel (the
// selected step's form, or the job's settings when no step is selected).
import { useState, type Dispatch } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { Button } from '../../../ui/Button';
import { TextField } from '../../../ui/Field';
import { ProblemAlert } from '../../../ui/ProblemAlert';
import { Loading } from '../../../ui/Status';
import { Canvas } from './Canvas';
import { stepKey, type PlacedErrors } from './errors';
import { JobSettings } from './JobSettings';
import { connectOrder, type Action, type JobDoc } from './model';
import { Palette } from './Palette';
import { StepForm } from './StepForm';
import type { StepType } from './stepTypes';

interface Props {
  doc: JobDoc;
  dispatch: Dispatch<Action>;
  stepTypes: UseQueryResult<StepType[]>;
  placed: PlacedErrors;
}

export function Builder({ doc, dispatch, stepTypes, placed }: Props) {
  const [selected, setSelected] = useState<number | null>(null);
  const [freeType, setFreeType] = useState('');
  const sel = selected !== null && selected < doc.steps.length ? selected : null;
  const errorsOf = (i: number) => {
    const s = doc.steps[i];
    return s ? (placed.steps[stepKey(s, i)]?.length ?? 0) : 0;
  };
  const add = (type: string, at?: number) => {
    dispatch({ kind: 'add-step', type, at });
    setSelected(at ?? doc.steps.length);
  };
  const step = sel !== null ? doc.steps[sel] : undefined;

  return (
    <div className="builder">
      <div className="builder-palette">
        {stepTypes.isPending && <Loading what="step types" />}
        {stepTypes.error && <ProblemAlert error={stepTypes.error} title="The step-type catalogue is not available" />}
        {stepTypes.data && <Palette types={stepTypes.data} onAdd={(t) => add(t)} />}
        <form
          className="free-type"
          onSubmit={(e) => {
            e.preventDefault();
            if (freeType.trim()) add(freeType.trim());
            setFreeType('');
          }}
        >
          <TextField label="Add a step of type" placeholder="ssh.exec" value={freeType} onChange={(e) => setFreeType(e.target.value)} spellCheck={false} />
          <Button type="submit" disabled={!freeType.trim()}>
            Add step
          </Button>
        </form>
      </div>
      <section className="builder-canvas" aria-label="Steps canvas">
        <h2 className="sr-only">Steps</h2>
        {doc.steps.length === 0 && <p className="canvas-empty muted">No steps yet: drag a step type here, or press its Add button.</p>}
        <Canvas
          steps={doc.steps}
          errorsOf={errorsOf}
          selected={sel}
          onSelect={setSelected}
          onConnect={(source, target) => {
            const move = connectOrder(doc.steps, source, target);
            if (move) {
              dispatch({ kind: 'move-step', ...move });
              setSelected(move.to);
            }
          }}
          onDropType={(type, at) => add(type, at)}
          onRemove={(index) => {
            dispatch({ kind: 'remove-step', index });
            setSelected(null);
          }}
          readOnly={false}
        />
        <ol className="step-list" aria-label="Steps in run order">
          {doc.steps.map((s, i) => (
            <li key={i}>
              <button type="button" className={i === sel ? 'btn btn-primary btn-small' : 'btn btn-small'} aria-pressed={i === sel} onClick={() => setSelected(i === sel ? null : i)}>
                {i + 1}. {String(s.id ?? '')} ({String(s.type ?? '')}){errorsOf(i) ? ` — ${errorsOf(i)} ${errorsOf(i) === 1 ? 'error' : 'errors'}` : ''}
              </button>
            </li>
          ))}
        </ol>
      </section>
      <aside className="builder-side" aria-label={step ? 'Step settings' : 'Job settings'}>
        {step && sel !== null ? (
          <>
            <Button variant="ghost" onClick={() => setSelected(null)}>
              Back to job settings
            </Button>
            <StepForm
              key={sel}
              step={step}
              index={sel}
              count={doc.steps.length}
              stepType={stepTypes.data?.find((t) => t.name === step.type)}
              errors={placed.steps[stepKey(step, sel)] ?? []}
              dispatch={(a) => {
                dispatch(a);
                if (a.kind === 'move-step') setSelected(Math.max(0, Math.min(a.to, doc.steps.length - 1)));
                if (a.kind === 'remove-step') setSelected(null);
              }}
              readOnly={false}
            />
          </>
        ) : (
          <section className="card" aria-labelledby="job-settings-title">
            <h2 id="job-settings-title">Job settings</h2>
            <JobSettings doc={doc} dispatch={dispatch} errors={placed.job} readOnly={false} />
          </section>
        )}
      </aside>
    </div>
  );
}
