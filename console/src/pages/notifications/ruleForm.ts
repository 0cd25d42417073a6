// The rule form: triggers, the conditions (./ruleConditions), where it
// sends (per channel: users, and other recipients written as the channel's
// kind reads them), the gates (after N failures, throttle) and escalation;
// the body of `POST`/`PUT` and of the preview.
import type { Schemas } from '../../api/types';
import type { RuleBody } from './queries';
import { splitList, type Kind } from './channelForm';
import { conditionsFormOf, conditionsKey, conditionsOf, count, unique, type ConditionsForm } from './ruleConditions';

type Rule = Schemas['RuleView'];
type Recipient = Schemas['Recipient'];

export interface SendTo {
  channel_id: string;
  /** Users, by id, in the order chosen. */
  user_ids: string[];
  /** Addresses (email) or `#channel` / `U…` (Slack), comma-separated. */
  to: string;
  job_owner: boolean;
  started_by: boolean;
}

export interface RuleForm extends ConditionsForm {
  name: string;
  enabled: boolean;
  triggers: string[];
  send_to: SendTo[];
  after_failures: string;
  throttle: boolean;
  throttle_max: string;
  throttle_per: string;
  throttle_then: 'silence_until_success' | 'digest';
  recovery: boolean;
  escalate: boolean;
  esc_after_failures: string;
  esc_unacked: string;
  esc_send_to: SendTo;
}

export const emptySend = (): SendTo => ({ channel_id: '', user_ids: [], to: '', job_owner: false, started_by: false });

/** Recipients as the form writes them. */
export function recipientsText(list: Recipient[] = []): Omit<SendTo, 'channel_id'> {
  const words: string[] = [];
  const users: string[] = [];
  let job_owner = false;
  let started_by = false;
  for (const r of list) {
    if (r.type === 'user') users.push(r.user_id);
    else if (r.type === 'email') words.push(r.address);
    else if (r.type === 'slack_channel') words.push(r.channel);
    else if (r.type === 'slack_user') words.push(r.user);
    else if (r.type === 'job_owner') job_owner = true;
    else if (r.type === 'started_by') started_by = true;
  }
  return { user_ids: unique(users), to: words.join(', '), job_owner, started_by };
}

const lineOf = (t: Schemas['RuleTarget']): SendTo => ({ channel_id: t.channel_id, ...recipientsText(t.to ?? []) });

/** The form of rule `r` (none: a new rule); `zone` is offered for hours not set yet. */
export function ruleFormOf(r?: Rule, zone = 'UTC'): RuleForm {
  const sends = (r?.send_to ?? []).map(lineOf);
  const esc = r?.escalation;
  return {
    name: r?.name ?? '',
    enabled: r?.enabled ?? true,
    triggers: r?.triggers ?? ['run_failed'],
    ...conditionsFormOf(r?.conditions, zone),
    send_to: sends.length > 0 ? sends : [emptySend()],
    after_failures: r?.after_failures ? String(r.after_failures) : '',
    throttle: Boolean(r?.throttle),
    throttle_max: String(r?.throttle?.max ?? 5),
    throttle_per: String(r?.throttle?.per_minutes ?? 60),
    throttle_then: r?.throttle?.then ?? 'silence_until_success',
    recovery: r?.recovery ?? true,
    escalate: Boolean(esc),
    esc_after_failures: esc?.after_failures ? String(esc.after_failures) : '',
    esc_unacked: esc?.unacked_minutes ? String(esc.unacked_minutes) : '',
    esc_send_to: esc?.send_to[0] ? lineOf(esc.send_to[0]) : emptySend(),
  };
}

/** The recipients of one line, read for the channel's kind. */
export function recipientsOf(s: SendTo, kind: Kind | undefined): Recipient[] {
  // Teams and webhooks reach their endpoint, nobody on it: what the line
  // held for another kind (hidden once the channel changed) is not sent.
  if (kind !== undefined && kind !== 'email' && kind !== 'slack') return [];
  const out: Recipient[] = unique(s.user_ids).map((user_id) => ({ type: 'user', user_id }));
  for (const w of splitList(s.to)) {
    if (kind === 'slack') out.push(/^U[A-Z0-9]+$/.test(w) ? { type: 'slack_user', user: w } : { type: 'slack_channel', channel: w });
    else out.push({ type: 'email', address: w });
  }
  if (s.job_owner) out.push({ type: 'job_owner' });
  if (s.started_by) out.push({ type: 'started_by' });
  return out;
}

export type BuiltRule = { ok: true; body: RuleBody } | { ok: false; errors: Record<string, string> };

/** The rule body; `kinds` reads recipients per channel. The form edits all
 * of a rule but the escalation's targets after the first: `original` lends those. */
export function ruleBodyOf(f: RuleForm, kinds: Map<string, Kind>, original?: Rule): BuiltRule {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'A name is required.';
  if (f.triggers.length === 0) errors.triggers = 'Choose at least one trigger.';
  const sends = f.send_to.filter((s) => s.channel_id);
  if (sends.length === 0) errors.send_to = 'Choose at least one channel.';
  const after = count(f.after_failures, errors, 'after_failures', 1000);
  const tMax = f.throttle ? count(f.throttle_max, errors, 'throttle_max', 1000) : null;
  const tPer = f.throttle ? count(f.throttle_per, errors, 'throttle_per', 10080) : null;
  if (f.throttle && (tMax === null || tPer === null)) {
    if (!f.throttle_max.trim()) errors.throttle_max = 'How many?';
    if (!f.throttle_per.trim()) errors.throttle_per = 'Per how many minutes?';
  }
  const escAfter = f.escalate ? count(f.esc_after_failures, errors, 'esc_after_failures', 1000) : null;
  const escUnacked = f.escalate ? count(f.esc_unacked, errors, 'esc_unacked', 10080) : null;
  if (f.escalate && !f.esc_send_to.channel_id) errors.esc_send_to = 'Choose the channel to escalate to.';
  if (f.escalate && escAfter === null && escUnacked === null && !errors.esc_after_failures && !errors.esc_unacked) {
    errors.esc_after_failures = 'After how many failures, or unacknowledged for how long?';
  }
  const conditions = conditionsOf(f, f.triggers.includes('run_slow'), errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    body: {
      name: f.name.trim(),
      enabled: f.enabled,
      triggers: f.triggers as Schemas['NotifyTrigger'][],
      conditions,
      send_to: sends.map((s) => ({ channel_id: s.channel_id, to: recipientsOf(s, kinds.get(s.channel_id)) })),
      after_failures: after,
      throttle: f.throttle && tMax !== null && tPer !== null ? { max: tMax, per_minutes: tPer, then: f.throttle_then } : null,
      recovery: f.recovery,
      escalation: f.escalate
        ? {
            after_failures: escAfter,
            unacked_minutes: escUnacked,
            send_to: [{ channel_id: f.esc_send_to.channel_id, to: recipientsOf(f.esc_send_to, kinds.get(f.esc_send_to.channel_id)) }, ...extraEscalations(original)],
          }
        : null,
    },
  };
}

/** The escalation targets after the first, which the form does not show. */
export const extraEscalations = (r?: Rule): Schemas['RuleTarget'][] => r?.escalation?.send_to.slice(1) ?? [];

/** The api's problems by form field (`/send_to/0/to` → `send_to`, `/throttle/max` → `throttle_max`,
 * `/conditions/time_of_day/zone` → `tod_zone`). */
export function ruleProblems(errors: { path: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const [top = '', sub = '', leaf = ''] = e.path.split('/').filter(Boolean);
    let k = top;
    if (top === 'throttle') k = sub === 'per_minutes' ? 'throttle_per' : 'throttle_max';
    else if (top === 'escalation') k = sub === 'send_to' ? 'esc_send_to' : sub === 'unacked_minutes' ? 'esc_unacked' : 'esc_after_failures';
    else if (top === 'conditions') k = conditionsKey(sub, leaf);
    out[k] = out[k] ? `${out[k]} ${e.message}` : e.message;
  }
  return out;
}
