// One channel a rule sends to (or escalates to), and who on it: users,
// addresses or Slack names, the job's owner, who started the run.
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextField } from '../../ui/Field';
import type { Channel } from './queries';
import type { SendTo } from './ruleForm';
import { UserPicker, type UserItem } from './UserPicker';

export function SendLine({ legend, line, channels, users, onChange, onRemove, error }: {
  legend: string;
  line: SendTo;
  channels: Channel[];
  users: UserItem[];
  onChange: (l: SendTo) => void;
  onRemove?: () => void;
  error?: string;
}) {
  const kind = channels.find((c) => c.id === line.channel_id)?.kind;
  const personal = kind === 'email' || kind === 'slack';
  return (
    <fieldset className="ntf-send">
      <legend>{legend}</legend>
      <SelectField
        label="Channel"
        value={line.channel_id}
        error={error}
        onChange={(e) => onChange({ ...line, channel_id: e.target.value })}
        options={[{ value: '', label: 'Choose a channel…' }, ...channels.map((c) => ({ value: c.id, label: `${c.name} (${c.kind})` }))]}
      />
      {personal && (
        <UserPicker
          legend="Users"
          hint={kind === 'email' ? "Each at their account's email address." : 'Each as the Slack member id of their preferences.'}
          users={users}
          chosen={line.user_ids}
          onChange={(ids) => onChange({ ...line, user_ids: ids })}
        />
      )}
      {personal && (
        <TextField
          label={kind === 'email' ? 'Addresses' : 'Slack channels or member ids'}
          hint="Comma-separated; empty (and nobody else here): the channel's defaults."
          value={line.to}
          onChange={(e) => onChange({ ...line, to: e.target.value })}
        />
      )}
      {personal && (
        <div className="row">
          <CheckboxField label="The job's owner" checked={line.job_owner} onChange={(e) => onChange({ ...line, job_owner: e.target.checked })} />
          <CheckboxField label="Who started the run" checked={line.started_by} onChange={(e) => onChange({ ...line, started_by: e.target.checked })} />
        </div>
      )}
      {onRemove && (
        <Button variant="ghost" onClick={onRemove}>
          Remove this channel
        </Button>
      )}
    </fieldset>
  );
}
