import { Link } from 'react-router';
import { useUser } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { PageHeader } from '../../ui/PageHeader';

/** What a non-admin sees at an admin-only address (the API would refuse it too). */
export function NotAllowed({ what }: { what: string }) {
  useTitle('Not allowed');
  const user = useUser();
  return (
    <>
      <PageHeader title="Not allowed" />
      <div className="alert alert-info" role="status">
        <p>
          Only admins manage {what}. You are signed in as <strong>{user.username}</strong> with the role <strong>{user.role}</strong>.
        </p>
      </div>
      <p>
        You can manage <Link to="/admin/tokens">your API tokens</Link> and see <Link to="/admin/workers">the workers</Link>.
      </p>
    </>
  );
}
