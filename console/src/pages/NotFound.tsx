import { Link } from 'react-router';
import { useTitle } from '../lib/title';
import { PageHeader } from '../ui/PageHeader';

export function NotFound() {
  useTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        Nothing lives at this address. <Link to="/">Back to the dashboard</Link>
      </p>
    </>
  );
}
