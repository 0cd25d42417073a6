// The rule form's "Only for" section: which jobs, owners, groups,
// schedules and outcomes a rule is for, how long the run took, and at
// which hours of the day.
import { toggled } from '../../lib/lists';
import { Button } from '../../ui/Button';
import { CheckboxField, TextField } from '../../ui/Field';
import { PickList } from '../../ui/PickList';
import { PICK_LOOK } from '../schedules/fields';
import { words } from './queries';
import type { ConditionsForm } from './ruleConditions';
import { DaysField, ZoneField } from './TimeFields';
import { UserPicker, type UserItem } from './UserPicker';

const RUN_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'worker_lost', 'skipped'];

type Named = { id: string; name: string }[];

export function ConditionFields({ form, set, err, jobs, groups, schedules, users }: {
  form: ConditionsForm;
  set: (patch: Partial<ConditionsForm>) => void;
  err: (key: string) => string | undefined;
  jobs: Named;
  groups: Named;
  schedules: Named;
  users: UserItem[];
}) {
  const anyHours = Boolean(form.tod_from || form.tod_to || form.tod_days.length > 0);
  return (
    <fieldset>
      <legend>Only for</legend>
      <div className="ntf-pick">
        <PickList legend="Jobs (none: any)" items={jobs} chosen={form.job_ids} onChange={(ids) => set({ job_ids: ids })} error={err('job_ids')} look={PICK_LOOK} />
      </div>
      <TextField label="Jobs tagged any of" hint="Comma-separated." value={form.job_tags} onChange={(e) => set({ job_tags: e.target.value })} error={err('job_tags')} />
      <UserPicker legend="Jobs owned by (none: anyone)" users={users} chosen={form.job_owner_ids} onChange={(ids) => set({ job_owner_ids: ids })} error={err('job_owner_ids')} />
      <div className="ntf-pick">
        <PickList legend="Runs on targets in these groups" items={groups} chosen={form.target_group_ids} onChange={(ids) => set({ target_group_ids: ids })} error={err('target_group_ids')} look={PICK_LOOK} />
      </div>
      <div className="ntf-pick">
        <PickList
          legend="Started by these schedules (none: any)"
          hint="Runs these schedules started, and their skipped or misfired occurrences."
          items={schedules}
          chosen={form.schedule_ids}
          onChange={(ids) => set({ schedule_ids: ids })}
          error={err('schedule_ids')}
          look={PICK_LOOK}
        />
      </div>
      <fieldset>
        <legend>Runs ending as</legend>
        <div className="ntf-checks">
          {RUN_STATUSES.map((s) => (
            <CheckboxField key={s} label={words(s)} checked={form.statuses.includes(s)} onChange={(e) => set({ statuses: toggled(form.statuses, s, e.target.checked) })} />
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Runs that took</legend>
        <div className="row">
          <TextField label="At least (seconds)" inputMode="decimal" hint="Empty: no lower bound." value={form.min_duration} onChange={(e) => set({ min_duration: e.target.value })} error={err('min_duration')} />
          <TextField label="At most (seconds)" inputMode="decimal" hint="Empty: no upper bound." value={form.max_duration} onChange={(e) => set({ max_duration: e.target.value })} error={err('max_duration')} />
        </div>
      </fieldset>
      <fieldset>
        <legend>At these hours</legend>
        <p className="field-hint">Empty: at any time. A start later than the end spans midnight (22:00 until 06:00); the same start and end: the whole day.</p>
        <div className="row">
          <TextField label="From" type="time" value={form.tod_from} onChange={(e) => set({ tod_from: e.target.value })} error={err('tod_from')} />
          <TextField label="Until" type="time" hint="Not included." value={form.tod_to} onChange={(e) => set({ tod_to: e.target.value })} error={err('tod_to')} />
        </div>
        <ZoneField label="In the time zone" value={form.tod_zone} onChange={(z) => set({ tod_zone: z })} error={err('tod_zone')} />
        <DaysField legend="On (none: every day)" days={form.tod_days} onChange={(days) => set({ tod_days: days })} error={err('tod_days')} />
        {anyHours && (
          <Button variant="ghost" onClick={() => set({ tod_from: '', tod_to: '', tod_days: [] })}>
            Clear the hours
          </Button>
        )}
      </fieldset>
    </fieldset>
  );
}
