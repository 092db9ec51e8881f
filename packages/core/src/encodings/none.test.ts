import { describe, expect, it } from 'vitest';
import { assertSupports } from '../encoding/position-encoding.js';
import { createEncoding } from '../encoding/registry.js';
import './index.js';
import { NoPositionEncoding } from './none.js';

describe('NoPositionEncoding', () => {
  it('has no hooks and no parameters, and fits softmax and linear attention', () => {
    const none = createEncoding({ name: 'none' });
    expect(none).toBeInstanceOf(NoPositionEncoding);
    const hooks = [
      'build',
      'parameters',
      'dispose',
      'embed',
      'projectionInputs',
      'queryKey',
      'scoreBias',
      'valueBias',
      'linearQueryKey',
      'linearFeatures',
      'linearAggregate',
    ];
    for (const hook of hooks) expect(none).not.toHaveProperty(hook);
    expect(() => assertSupports(none, 'softmax')).not.toThrow();
    expect(() => assertSupports(none, 'linear')).not.toThrow();
  });

  it('accepts no settings', () => {
    expect(() => createEncoding({ name: 'none', scale: 2 })).toThrow(
      /encoding 'none': field 'scale' = 2 is not allowed; unknown field/,
    );
  });
});
