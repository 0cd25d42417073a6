// Import a job definition: pasted or read from a JSON/YAML file, sent with
// the matching Content-Type; the API's problems shown by path.
import { useState, type ChangeEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextArea } from '../../ui/Field';
import { Dialog } from '../../ui/Dialog';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { importJob, keys } from './api';

type Format = 'yaml' | 'json';

/** The format of a file by name, else by its first character. */
export function formatOf(fileName: string, text: string): Format {
  if (/\.json$/i.test(fileName)) return 'json';
  if (/\.ya?ml$/i.test(fileName)) return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

export function ImportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [text, setText] = useState('');
  const [format, setFormat] = useState<Format>('yaml');
  const [replace, setReplace] = useState(false);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: () => importJob(text, format === 'json' ? 'application/json' : 'application/yaml', replace),
    onSuccess: async (job) => {
      await qc.invalidateQueries({ queryKey: keys.all });
      onClose();
      void navigate(`/jobs/${job.id}`);
    },
  });
  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (!f) return;
    const body = await f.text();
    setText(body);
    setFormat(formatOf(f.name, body));
  };
  return (
    <Dialog
      open={open}
      title="Import a job"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={m.isPending} disabled={text.trim() === ''} onClick={() => m.mutate()}>
            Import
          </Button>
        </>
      }
    >
      <div className="field">
        <label htmlFor="jobs-import-file">Definition file</label>
        <input id="jobs-import-file" type="file" accept=".json,.yaml,.yml,application/json,application/yaml" onChange={(e) => void pick(e)} />
      </div>
      <SelectField
        label="Format"
        value={format}
        onChange={(e) => setFormat(e.target.value as Format)}
        options={[
          { value: 'yaml', label: 'YAML' },
          { value: 'json', label: 'JSON' },
        ]}
      />
      <TextArea label="Definition" rows={12} className="mono" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
      <CheckboxField label="Add a version when a job of that name exists" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
      <ProblemAlert error={m.error} title="The job was not imported" />
    </Dialog>
  );
}
