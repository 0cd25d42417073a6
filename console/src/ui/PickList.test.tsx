import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PickList } from './PickList';

afterEach(cleanup);

const LOOK = { className: 'room-picklist', noneClassName: 'muted small' };
const ITEMS = [
  { id: 'g1', name: 'web' },
  { id: 'g2', name: 'db' },
  { id: 'g3', name: 'cache' },
];

describe('PickList', () => {
  it('reports the chosen ids as boxes are ticked and unticked', () => {
    const onChange = vi.fn();
    render(<PickList legend="Groups" items={ITEMS} chosen={['g2']} onChange={onChange} look={LOOK} />);
    const group = screen.getByRole('group', { name: 'Groups' });
    expect((within(group).getByLabelText('db') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(within(group).getByLabelText('cache'));
    expect(onChange).toHaveBeenLastCalledWith(['g2', 'g3']);
    fireEvent.click(within(group).getByLabelText('db'));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it('dresses itself as the room asks and says when there is nothing to pick', () => {
    render(<PickList legend="Jobs" items={[]} chosen={[]} onChange={() => undefined} look={LOOK} />);
    const group = screen.getByRole('group', { name: 'Jobs' });
    expect(group.className).toBe('field room-picklist');
    expect(within(group).getByText('None.').className).toBe('muted small');
  });

  it('shows a hint and a problem as a field does', () => {
    render(<PickList legend="Jobs" hint="Any of them." error="Pick one at least" items={ITEMS} chosen={[]} onChange={() => undefined} look={LOOK} />);
    const group = screen.getByRole('group', { name: 'Jobs' });
    expect(group.className).toBe('field field-error room-picklist');
    expect(within(group).getByText('Any of them.').className).toBe('field-hint');
    expect(within(group).getByRole('alert').textContent).toBe('Pick one at least');
    expect(within(group).queryByText('None.')).toBeNull();
  });
});
