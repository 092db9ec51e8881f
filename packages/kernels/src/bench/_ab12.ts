import { selectEngine } from '@posenc/core';
import { ISSUE_SIZES, WORKLOADS } from './workloads.js';
import '../index.js';
await selectEngine({ engine: 'kernels', log: null });
const a = await WORKLOADS.find(w => w.id === 'attention')!.setup(ISSUE_SIZES);
const b = await WORKLOADS.find(w => w.id === 'rotary_attention')!.setup(ISSUE_SIZES);
for (let i = 0; i < 5; i++) { await a.step(); await b.step(); }
const ta: number[] = [], tb: number[] = [];
for (let i = 0; i < 40; i++) {
  let t = performance.now(); await a.step(); ta.push(performance.now() - t);
  t = performance.now(); await b.step(); tb.push(performance.now() - t);
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
console.log('attention', med(ta).toFixed(2), 'rope', med(tb).toFixed(2), 'overhead', ((med(tb) / med(ta) - 1) * 100).toFixed(1) + '%', 'min', Math.min(...ta).toFixed(2), Math.min(...tb).toFixed(2));
