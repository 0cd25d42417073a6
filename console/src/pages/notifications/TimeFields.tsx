// Fields of daily hours, shared by my quiet hours and a rule's hours of the
// day: the weekdays and the time zone.
import { useMemo } from 'react';
import { toggled } from '../../lib/lists';
import { CheckboxField, SelectField, FieldMessage } from '../../ui/Field';
import { allZones, browserZone } from '../schedules/calendar';
import { DAYS } from './prefsForm';

/** A checkbox per weekday (`mon` … `sun`), as one fieldset. */
export function DaysField({ legend, days, onChange, error }: { legend: string; days: string[]; onChange: (days: string[]) => void; error?: string }) {
  return (
    <fieldset className={error ? 'field-error' : undefined}>
      <legend>{legend}</legend>
      <div className="row">
        {DAYS.map((d) => (
          <CheckboxField key={d} label={d} checked={days.includes(d)} onChange={(e) => onChange(toggled(days, d, e.target.checked))} />
        ))}
      </div>
      <FieldMessage error={error} />
    </fieldset>
  );
}

/** Every IANA zone the browser knows (and `value`, if it does not), the browser's own marked. */
export function ZoneField({ label, value, onChange, error, hint }: { label: string; value: string; onChange: (zone: string) => void; error?: string; hint?: string }) {
  const zones = useMemo(() => allZones(), []);
  const here = browserZone();
  const list = value && !zones.includes(value) ? [value, ...zones] : zones;
  return (
    <SelectField
      label={label}
      value={value}
      hint={hint}
      error={error}
      onChange={(e) => onChange(e.target.value)}
      options={list.map((z) => ({ value: z, label: z === here ? `${z} (this browser)` : z }))}
    />
  );
}
