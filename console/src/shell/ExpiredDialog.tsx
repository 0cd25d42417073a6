import { useSession } from '../auth/session';
import { SignInForm } from '../pages/login/SignInForm';
import { Dialog } from '../ui/Dialog';

/** When the session ends mid-work, sign in again over the page: what the
 * user typed stays where it was. */
export function ExpiredDialog() {
  const session = useSession();
  const s = session.state;
  const expired = s.kind === 'signed-in' && s.expired;
  return (
    <Dialog open={expired} title="Your session has ended" onClose={() => undefined} dismissable={false}>
      <p>Sign in again to go on; nothing on this page is lost.</p>
      {s.kind === 'signed-in' && <SignInForm username={s.user.username} onDone={() => undefined} />}
    </Dialog>
  );
}
