import { ApiError, messageOf } from '../api/errors';

/** An error as the API explained it: the sentence, each field's problem,
 * and the request id to quote to an admin. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problem = error instanceof ApiError ? error.problem : null;
  return (
    <div className="alert alert-error" role="alert">
      <strong>{title ?? problem?.title ?? 'Something went wrong'}</strong>
      <p>{messageOf(error)}</p>
      {problem?.errors && problem.errors.length > 0 && (
        <ul className="alert-list">
          {problem.errors.map((e, i) => (
            <li key={`${e.path}-${i}`}>
              {e.path && <code>{e.path}</code>} {e.message}
            </li>
          ))}
        </ul>
      )}
      {problem?.request_id && <p className="muted small">Request {problem.request_id}</p>}
    </div>
  );
}
