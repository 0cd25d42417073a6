import type { Schemas } from '../../api/types';
import { duration } from '../../lib/format';
import { Time } from '../../ui/Time';

/** A connection test's outcome: ok or where it failed, and the facts. */
export function TestResult({ outcome, caption = 'Facts' }: { outcome: Schemas['TestOutcome']; caption?: string }) {
  const facts = Object.entries(outcome.facts ?? {});
  return (
    <div className="test-result">
      <p>
        <span className={`badge ${outcome.ok ? 'status-succeeded' : 'status-failed'}`}>{outcome.ok ? 'connected' : 'failed'}</span>{' '}
        {outcome.protocol.toUpperCase()} in {duration(outcome.elapsed_ms)}, <Time at={outcome.tested_at} /> by {outcome.worker_id}
        {outcome.host_key_pinned && ' — the host key was pinned'}
      </p>
      {!outcome.ok && (
        <p className="test-error">
          {outcome.stage && <strong>Stage {outcome.stage.replace(/_/g, ' ')}: </strong>}
          {outcome.error ?? 'failed'}
        </p>
      )}
      {outcome.host_key && (
        <p className="small">
          Presented host key <code>{outcome.host_key.algorithm}</code> <code>{outcome.host_key.fingerprint}</code>
        </p>
      )}
      {facts.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Fact</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {facts.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Reads a stored `last_test` (untyped in the schema) as an outcome. */
export function asOutcome(v: unknown): Schemas['TestOutcome'] | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Partial<Schemas['TestOutcome']>;
  return typeof o.ok === 'boolean' && typeof o.protocol === 'string' ? (o as Schemas['TestOutcome']) : null;
}
