import { isRouteErrorResponse, Link, useRouteError } from 'react-router';
import { messageOf } from '../api/errors';

/** A page that failed to load or threw: say so, offer a way back. */
export function RouteError() {
  const error = useRouteError();
  const text = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : messageOf(error);
  return (
    <div className="content" role="alert">
      <h1>This page failed</h1>
      <p>{text}</p>
      <p>
        <Link to="/">Back to the dashboard</Link> or reload the page (a new version of the console may have been installed).
      </p>
    </div>
  );
}
