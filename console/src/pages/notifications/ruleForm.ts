// The rule form: triggers, the common conditions, where it sends (per
// channel, recipients written as the channel's kind reads them), the
// gates (after N failures, throttle) and escalation; the body of
// `POST`/`PUT` and of the preview.
import type { Schemas } from '../../api/types';
import type { RuleBody } from './queries';
import { splitList, type Kind } from './channelForm';

type Rule = Schemas['RuleView'];
type Recipient = Schemas['Recipient'];

export interface SendTo {
  channel_id: string;
  /** Addresses (email) or `#channel` / `U…` (Slack), comma-separated. */
  to: string;
  job_owner: boolean;
  started_by: boolean;
}

export interface RuleForm {
  name: string;
  enabled: boolean;
  triggers: string[];
  job_ids: string[];
  job_tags: string;
  statuses: string[];
  target_group_ids: string[];
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

const emptySend = (): SendTo => ({ channel_id: '', to: '', job_owner: false, started_by: false });

/** Recipients as the form writes them (users by id are kept aside). */
export function recipientsText(list: Recipient[] = []): Omit<SendTo, 'channel_id'> {
  const words: string[] = [];
  let job_owner = false;
  let started_by = false;
  for (const r of list) {
    if (r.type === 'email') words.push(r.address);
    else if (r.type === 'slack_channel') words.push(r.channel);
    else if (r.type === 'slack_user') words.push(r.user);
    else if (r.type === 'job_owner') job_owner = true;
    else if (r.type === 'started_by') started_by = true;
  }
  return { to: words.join(', '), job_owner, started_by };
}

export function ruleFormOf(r?: Rule): RuleForm {
  const c = r?.conditions;
  const sends = (r?.send_to ?? []).map((t) => ({ channel_id: t.channel_id, ...recipientsText(t.to ?? []) }));
  const esc = r?.escalation;
  return {
    name: r?.name ?? '',
    enabled: r?.enabled ?? true,
    triggers: r?.triggers ?? ['run_failed'],
    job_ids: c?.job_ids ?? [],
    job_tags: (c?.job_tags ?? []).join(', '),
    statuses: c?.statuses ?? [],
    target_group_ids: c?.target_group_ids ?? [],
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
    esc_send_to: esc?.send_to[0] ? { channel_id: esc.send_to[0].channel_id, ...recipientsText(esc.send_to[0].to ?? []) } : emptySend(),
  };
}

/** The recipients of one line, read for the channel's kind. */
export function recipientsOf(s: SendTo, kind: Kind | undefined, keep: Recipient[] = []): Recipient[] {
  const out: Recipient[] = keep.filter((r) => r.type === 'user');
  for (const w of splitList(s.to)) {
    if (kind === 'slack') out.push(/^U[A-Z0-9]+$/.test(w) ? { type: 'slack_user', user: w } : { type: 'slack_channel', channel: w });
    else out.push({ type: 'email', address: w });
  }
  if (s.job_owner) out.push({ type: 'job_owner' });
  if (s.started_by) out.push({ type: 'started_by' });
  return out;
}

const count = (text: string, errors: Record<string, string>, key: string, max: number): number | null => {
  const t = text.trim();
  if (!t) return null;
  const n = Number(t);
  if (!/^\d+$/.test(t) || n < 1 || n > max) {
    errors[key] = `A whole number, 1 to ${max}.`;
    return null;
  }
  return n;
};

export type BuiltRule = { ok: true; body: RuleBody } | { ok: false; errors: Record<string, string> };

/** The rule body; `kinds` reads recipients per channel, `original` lends what the form does not edit. */
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
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const keepFor = (channel: string) => original?.send_to.find((t) => t.channel_id === channel)?.to ?? [];
  const conditions: Schemas['RuleConditions'] = {
    ...(original?.conditions ?? {}),
    job_ids: f.job_ids,
    job_tags: splitList(f.job_tags),
    statuses: f.statuses as Schemas['RunStatus'][],
    target_group_ids: f.target_group_ids,
  } as Schemas['RuleConditions'];
  return {
    ok: true,
    body: {
      name: f.name.trim(),
      enabled: f.enabled,
      triggers: f.triggers as Schemas['NotifyTrigger'][],
      conditions,
      send_to: sends.map((s) => ({ channel_id: s.channel_id, to: recipientsOf(s, kinds.get(s.channel_id), keepFor(s.channel_id)) })),
      after_failures: after,
      throttle: f.throttle && tMax !== null && tPer !== null ? { max: tMax, per_minutes: tPer, then: f.throttle_then } : null,
      recovery: f.recovery,
      escalation: f.escalate
        ? {
            after_failures: escAfter,
            unacked_minutes: escUnacked,
            send_to: [{ channel_id: f.esc_send_to.channel_id, to: recipientsOf(f.esc_send_to, kinds.get(f.esc_send_to.channel_id)) }],
          }
        : null,
    },
  };
}

/** The api's problems by form field (`/send_to/0/to` → `send_to`, `/throttle/max` → `throttle_max`). */
export function ruleProblems(errors: { path: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const [top = '', sub = ''] = e.path.split('/').filter(Boolean);
    let k = top;
    if (top === 'throttle') k = sub === 'per_minutes' ? 'throttle_per' : 'throttle_max';
    else if (top === 'escalation') k = sub === 'send_to' ? 'esc_send_to' : sub === 'unacked_minutes' ? 'esc_unacked' : 'esc_after_failures';
    else if (top === 'conditions') k = sub || 'conditions';
    out[k] = out[k] ? `${out[k]} ${e.message}` : e.message;
  }
  return out;
}
