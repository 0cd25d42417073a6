import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { TextArea } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { csvObjects, parseCsv } from './csv';
import { keys } from './queries';
import { rowErrors } from './rowErrors';

type Format = 'csv' | 'json';

interface Preview {
  format: Format;
  columns: string[];
  rows: Record<string, string>[];
}

const JSON_COLUMNS = ['name', 'hostname', 'os_type', 'pool', 'tags'];

/** What `text` holds, as rows to show (or why it cannot be read). */
export function previewOf(text: string): Preview | { error: string } | null {
  const t = text.trim();
  if (!t) return null;
  try {
    if (t.startsWith('[')) {
      const v: unknown = JSON.parse(t);
      if (!Array.isArray(v)) return { error: 'JSON must be an array of targets.' };
      const rows = v.map((item) => {
        const o = (item ?? {}) as Record<string, unknown>;
        return Object.fromEntries(JSON_COLUMNS.map((c) => [c, Array.isArray(o[c]) ? (o[c] as unknown[]).join(';') : o[c] === undefined ? '' : String(o[c])]));
      });
      return { format: 'json', columns: JSON_COLUMNS, rows };
    }
    const csv = parseCsv(text);
    return { format: 'csv', columns: csv.header, rows: csvObjects(csv) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** `/targets/import`: paste or pick a CSV or JSON file, check the preview, import all or nothing. */
export function ImportPage() {
  useTitle('Import targets');
  const { can } = useSession();
  const qc = useQueryClient();
  const [text, setText] = useState('');
  const preview = useMemo(() => previewOf(text), [text]);
  const send = useMutation({
    mutationFn: (p: Preview) =>
      api.post<Schemas['Imported']>('/api/v1/targets/import', undefined, {
        rawBody: { text, contentType: p.format === 'csv' ? 'text/csv' : 'application/json' },
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.all }),
  });
  const problems = useMemo(() => rowErrors(send.error instanceof ApiError ? send.error.problem.errors : undefined), [send.error]);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setText(await file.text());
    send.reset();
  };
  if (!can('operator')) return <ProblemAlert error={new Error('Viewers cannot import targets.')} title="Not allowed" />;
  const ok = preview && !('error' in preview) ? preview : null;
  return (
    <>
      <PageHeader title="Import targets" subtitle="All or nothing: one bad row imports nothing, and every bad row is named." />
      <div className="card stack import">
        <div className="field">
          <label htmlFor="import-file">File (CSV or JSON)</label>
          <input id="import-file" type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => void onFile(e.target.files?.[0])} />
        </div>
        <TextArea
          label="Or paste CSV or JSON"
          hint="CSV columns: name, hostname, os_type, pool, enabled, tags (;-separated), metadata, ssh_port, ssh_credential, ssh_host_key_policy, winrm_scheme, winrm_port, winrm_credential, winrm_verify_tls, http_base_url, http_credential. Credentials by name or id."
          rows={8}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            send.reset();
          }}
        />
        {preview && 'error' in preview && <div className="alert alert-error" role="alert">{preview.error}</div>}
        {ok && (
          <section aria-labelledby="preview-h">
            <h2 id="preview-h">Preview: {ok.rows.length} row(s) of {ok.format.toUpperCase()}</h2>
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Rows to import</caption>
                <thead>
                  <tr>
                    <th scope="col">Row</th>
                    {ok.columns.map((c) => (
                      <th key={c} scope="col">{c}</th>
                    ))}
                    <th scope="col">Problems</th>
                  </tr>
                </thead>
                <tbody>
                  {ok.rows.map((r, i) => {
                    const errs = problems.get(i + 1) ?? [];
                    return (
                      <tr key={i} className={errs.length ? 'row-bad' : undefined}>
                        <th scope="row">{i + 1}</th>
                        {ok.columns.map((c) => (
                          <td key={c}>{r[c]}</td>
                        ))}
                        <td>
                          {errs.length ? (
                            <ul className="row-errors">
                              {errs.map((e, j) => (
                                <li key={j}>
                                  {e.field && <strong>{e.field}: </strong>}
                                  {e.message}
                                </li>
                              ))}
                            </ul>
                          ) : (
                            <span className="muted">—</span>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </section>
        )}
        <ProblemAlert error={send.error} title="Nothing was imported" />
        {send.data && (
          <div className="alert alert-info" role="status">
            Imported {send.data.imported} target(s). <Link to="/targets">See the targets</Link>
          </div>
        )}
        <div className="form-actions">
          <Button variant="primary" disabled={!ok || ok.rows.length === 0} busy={send.isPending} onClick={() => ok && send.mutate(ok)}>
            Import {ok ? `${ok.rows.length} target(s)` : ''}
          </Button>
          <Link className="btn btn-secondary" to="/targets">Back to targets</Link>
        </div>
      </div>
    </>
  );
}
