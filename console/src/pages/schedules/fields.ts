// How the schedules room dresses the shared parameter fields and pick lists
// (the notifications room's editors borrow the pick lists' look).
import type { ParamLook } from '../jobs/ParamField';
import type { PickListLook } from '../../ui/PickList';

/** Pick lists scroll past 14rem; an empty one says "None." in small print. */
export const PICK_LOOK: PickListLook = { className: 'sched-picklist', noneClassName: 'muted small' };

/** A schedule stores its secret parameters sealed, to send with every fire. */
export const PARAM_LOOK: ParamLook = {
  secretHint: 'Secret: stored encrypted, never shown again.',
  choices: PICK_LOOK,
  choicesHint: false,
};
