import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Time } from '../../ui/Time';
import { keys, type Target } from './queries';

function Key({ title, k, pending }: { title: string; k: Schemas['HostKey'] & { pinned_at?: string; pinned_by?: string }; pending?: boolean }) {
  return (
    <div className={pending ? 'key-card key-pending' : 'key-card'}>
      <h3>{title}</h3>
      <dl className="facts">
        <dt>Algorithm</dt>
        <dd><code>{k.algorithm}</code></dd>
        <dt>Fingerprint</dt>
        <dd><code>{k.fingerprint}</code></dd>
        {k.pinned_at && (
          <>
            <dt>Pinned</dt>
            <dd>
              <Time at={k.pinned_at} /> by {k.pinned_by === 'accept-new' ? 'first contact (accept-new)' : k.pinned_by}
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}

/** The SSH host key: the pinned one, a pending one beside it, approve and forget (admins). */
export function HostKeyPanel({ target }: { target: Target }) {
  const { can } = useSession();
  const qc = useQueryClient();
  const [forget, setForget] = useState(false);
  const state = target.host_key;
  const pending = state?.pending ?? null;
  const pinned = state?.pinned ?? null;
  const done = () => qc.invalidateQueries({ queryKey: keys.all });
  const approve = useMutation({
    mutationFn: (fingerprint: string) => api.post(`/api/v1/targets/${target.id}/host-key/approve`, { fingerprint }),
    onSuccess: done,
  });
  const drop = useMutation({
    mutationFn: () => api.del(`/api/v1/targets/${target.id}/host-key`),
    onSuccess: async () => {
      await done();
      setForget(false);
    },
  });
  return (
    <section className="card" aria-labelledby="hostkey-h">
      <h2 id="hostkey-h">SSH host key</h2>
      {!pending && !pinned && <p className="muted">No key is pinned yet; a connection test shows the server's key.</p>}
      {pending && (
        <div className="alert alert-info" role="status">
          {pinned
            ? 'The server presented a different key. Approve it only if you know why it changed.'
            : 'The server presented a key that is not trusted yet. Compare its fingerprint with the server before approving.'}
        </div>
      )}
      <div className="keys">
        {pinned && <Key title={pending ? 'Pinned (old) key' : 'Pinned key'} k={pinned} />}
        {pending && <Key title="Presented (new) key" k={pending} pending />}
      </div>
      <ProblemAlert error={approve.error} />
      {can('admin') && (
        <div className="row">
          {pending && (
            <Button variant="primary" busy={approve.isPending} onClick={() => approve.mutate(pending.fingerprint)}>
              Approve new key
            </Button>
          )}
          {(pinned || pending) && (
            <Button variant="danger" onClick={() => setForget(true)}>
              Forget host key
            </Button>
          )}
        </div>
      )}
      <ConfirmDialog
        open={forget}
        title="Forget the host key?"
        onClose={() => setForget(false)}
        onConfirm={() => drop.mutate()}
        busy={drop.isPending}
        error={drop.error}
        confirmLabel="Forget"
      >
        <p>The next connection is treated as first contact under the target's host key policy.</p>
      </ConfirmDialog>
    </section>
  );
}
