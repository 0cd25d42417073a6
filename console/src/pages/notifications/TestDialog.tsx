import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { duration } from '../../lib/format';
import { Button } from '../../ui/Button';
import { Dialog } from '../../ui/Dialog';
import { TextField } from '../../ui/Field';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { StatusBadge } from '../../ui/Status';
import { testRecipients } from './channelForm';
import { testChannel, type Channel } from './queries';

/** Sends a test through a channel (to its defaults or to recipients typed) and shows what the notifier answered. */
export function TestDialog({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const [to, setTo] = useState('');
  const test = useMutation({ mutationFn: () => testChannel(channel.id, testRecipients(channel.kind, to)) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!test.isPending) test.mutate();
  };
  const o = test.data;
  const asks = channel.kind === 'email' || channel.kind === 'slack';
  return (
    <Dialog
      open
      title={`Test ${channel.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Close</Button>
          <Button variant="primary" type="submit" form="ntf-test" busy={test.isPending}>
            {test.isPending ? 'Sending… (up to 30 s)' : 'Send test'}
          </Button>
        </>
      }
    >
      <form id="ntf-test" onSubmit={submit}>
        {asks ? (
          <TextField
            label={channel.kind === 'email' ? 'Send to (addresses)' : 'Send to (#channel or member id)'}
            hint="Comma-separated; empty: the channel's defaults."
            value={to}
            onChange={(e) => setTo(e.target.value)}
          />
        ) : (
          <p>A test message goes to the channel&apos;s endpoint.</p>
        )}
      </form>
      <ProblemAlert error={test.error} />
      {o && (
        <div className={`alert ntf-outcome ${o.status === 'delivered' ? 'alert-info' : 'alert-error'}`} role="status" aria-label="Test outcome">
          <strong>{o.status ? <StatusBadge status={o.status} /> : 'No answer'}</strong> {o.message}
          {o.error && <p>{o.error}</p>}
          <p className="muted small">
            {o.duration_ms !== null && o.duration_ms !== undefined && `Took ${duration(o.duration_ms)}. `}
            <Link to={`/notifications/${o.notification_id}`}>See the notification</Link>
          </p>
        </div>
      )}
    </Dialog>
  );
}
