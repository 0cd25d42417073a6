import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParamField, type ParamLook } from './ParamField';

afterEach(cleanup);

const LOOK: ParamLook = {
  secretHint: 'Secret: kept sealed.',
  choices: { className: 'room-choices', noneClassName: 'muted' },
  choicesHint: true,
};

describe('ParamField', () => {
  it('asks for a bool with a checkbox', () => {
    const onChange = vi.fn();
    render(<ParamField name="dry_run" spec={{ type: 'bool', description: 'Change nothing.' }} value={false} onChange={onChange} look={LOOK} />);
    fireEvent.click(screen.getByLabelText('dry_run'));
    expect(onChange).toHaveBeenCalledWith(true);
    expect(screen.getByText('Change nothing.')).toBeTruthy();
  });

  it('offers an enum’s choices after its default', () => {
    const onChange = vi.fn();
    render(<ParamField name="env" spec={{ type: 'enum', required: true, choices: ['dev', 'prod'], default: 'dev' }} value="" onChange={onChange} look={LOOK} />);
    const select = screen.getByLabelText('env (required)') as HTMLSelectElement;
    expect([...select.options].map((o) => o.text)).toEqual(['Default (dev)', 'dev', 'prod']);
    fireEvent.change(select, { target: { value: 'prod' } });
    expect(onChange).toHaveBeenCalledWith('prod');
  });

  it('picks several of a multi_select as the form dresses them', () => {
    const onChange = vi.fn();
    render(<ParamField name="hosts" spec={{ type: 'multi_select', choices: ['a', 'b'], description: 'Where.' }} value={['a']} onChange={onChange} look={LOOK} />);
    const group = screen.getByRole('group', { name: 'hosts' });
    expect(group.className).toBe('field room-choices');
    expect(within(group).getByText('Where.')).toBeTruthy();
    fireEvent.click(within(group).getByLabelText('b'));
    expect(onChange).toHaveBeenCalledWith(['a', 'b']);
  });

  it('leaves a multi_select’s description out when the form says so', () => {
    render(<ParamField name="hosts" spec={{ type: 'multi_select', choices: ['a'], description: 'Where.' }} value={[]} onChange={() => undefined} look={{ ...LOOK, choicesHint: false }} />);
    expect(screen.queryByText('Where.')).toBeNull();
  });

  it('masks a secret and says what becomes of it', () => {
    render(<ParamField name="token" spec={{ type: 'secret', description: 'The API token.' }} value="" onChange={() => undefined} look={LOOK} />);
    const input = screen.getByLabelText('token') as HTMLInputElement;
    expect(input.type).toBe('password');
    expect(input.autocomplete).toBe('new-password');
    expect(screen.getByText('Secret: kept sealed.')).toBeTruthy();
    expect(screen.queryByText('The API token.')).toBeNull();
  });

  it('asks for an int as numeric text and shows its problem', () => {
    const onChange = vi.fn();
    render(<ParamField name="count" spec={{ type: 'int' }} value="3" error="Must be a whole number" onChange={onChange} look={LOOK} />);
    const input = screen.getByLabelText('count') as HTMLInputElement;
    expect(input.inputMode).toBe('numeric');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('alert').textContent).toBe('Must be a whole number');
    fireEvent.change(input, { target: { value: '4' } });
    expect(onChange).toHaveBeenCalledWith('4');
  });
});
