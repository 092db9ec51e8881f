/**
 * The ListOps generator against the official one (google-research/long-range-arena
 * `lra_benchmarks/data/listops.py`): the order in which it draws, its semantics, its bounds, and
 * the released serialisation with parentheses. Values are checked by an evaluator of our own that
 * reads the token stream the model sees, not the generator's tree.
 */
import { generatorFor } from '@posenc/core';
import { describe, expect, it } from 'vitest';
import {
  depthOf,
  encodeListOps,
  generateListOps,
  generateTree,
  LISTOPS_OFFICIAL,
  LISTOPS_OPERATORS,
  LISTOPS_VOCABULARY,
  listOpsSource,
  listOpsTokens,
  parseListOpsTsv,
  treeValue,
  type ListOpsGrammar,
  type ListOpsTree,
} from './listops.js';

/** A stack evaluator of the tokens (`[MAX 2 9 X`): prefix operators closed by X. */
function evaluateTokens(tokens: readonly string[]): number {
  const stack: { op: string; args: number[] }[] = [];
  let result: number | undefined;
  const push = (v: number) => {
    if (stack.length === 0) {
      if (result !== undefined) throw new Error('two expressions');
      result = v;
    } else stack[stack.length - 1]!.args.push(v);
  };
  for (const t of tokens) {
    if (t.startsWith('[')) stack.push({ op: t, args: [] });
    else if (t === 'X') {
      const { op, args } = stack.pop()!;
      const sorted = [...args].sort((a, b) => a - b);
      const median =
        sorted.length % 2 === 1
          ? sorted[(sorted.length - 1) / 2]!
          : // numpy's median is the mean of the middle two; int() truncates it.
            Math.floor((sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2);
      const values: Record<string, number> = {
        '[MIN': sorted[0]!,
        '[MAX': sorted[sorted.length - 1]!,
        '[MED': median,
        '[SM': args.reduce((a, b) => a + b, 0) % 10,
      };
      if (!(op in values)) throw new Error(`unknown operator ${op}`);
      push(values[op]!);
    } else push(Number(t));
  }
  if (stack.length !== 0 || result === undefined) throw new Error('unbalanced');
  return result;
}

/** The official `to_string`: every node a pair wrapped in parentheses. */
function officialString(tree: ListOpsTree): string {
  if (typeof tree === 'number') return String(tree);
  let t = `( ${tree.op} ${officialString(tree.args[0]!)} )`;
  for (const a of tree.args.slice(1)) t = `( ${t} ${officialString(a)} )`;
  return `( ${t} ] )`;
}

function operatorNodes(tree: ListOpsTree): { op: string; args: readonly ListOpsTree[] }[] {
  return typeof tree === 'number' ? [] : [tree, ...tree.args.flatMap(operatorNodes)];
}

/** Random values replayed in order, as Python's `random` would return them. */
function scripted(values: number[]) {
  return () => {
    const v = values.shift();
    if (v === undefined) throw new Error('the generator drew more than scripted');
    return v;
  };
}

describe('ListOps generator', () => {
  it('draws as the official generate_tree: r, then a digit or (count, children, operator)', () => {
    // r = 0.1 ≤ 0.25: an operator; randint(2, 10) → 2; two leaves (r > 0.25, digit); operator 2 = MED.
    const random = scripted([0.1, 0.0, 0.9, 0.35, 0.9, 0.75, 0.5]);
    const { tree, length } = generateTree(random, { maxDepth: 10, maxArgs: 10 });
    expect(tree).toEqual({ op: '[MED', args: [3, 7] });
    expect(length).toBe(4);
    // At the maximum depth a node is a leaf without drawing r: one draw, the digit.
    expect(generateTree(scripted([0.55]), { maxDepth: 3, maxArgs: 5 }, 3)).toEqual({
      tree: 5,
      length: 1,
    });
    // randint(2, max_args) includes max_args.
    const wide = generateTree(scripted([0.2, 0.999, ...Array(20).fill(0.9), 0.99]), {
      maxDepth: 2,
      maxArgs: 10,
    });
    const [root] = operatorNodes(wide.tree);
    expect(root!.args).toHaveLength(10);
    expect(root!.op).toBe('[SM');
  });

  it('has the official semantics: MED truncates like int(np.median), SM is the sum mod 10', () => {
    expect(treeValue({ op: '[MED', args: [1, 2] })).toBe(1);
    expect(treeValue({ op: '[MED', args: [9, 4, 5, 6] })).toBe(5);
    expect(treeValue({ op: '[MED', args: [7, 1, 3] })).toBe(3);
    expect(treeValue({ op: '[SM', args: [9, 8, 7] })).toBe(4);
    expect(treeValue({ op: '[MIN', args: [4, { op: '[MAX', args: [2, 9] }] })).toBe(4);
  });

  const grammars: [string, ListOpsGrammar, number][] = [
    ['small (the default preset)', { maxDepth: 3, maxArgs: 4, minLength: 8, maxLength: 60 }, 400],
    ['official (depth 10, 2–10 arguments, 500–2000 tokens)', LISTOPS_OFFICIAL, 20],
  ];
  it.each(grammars)(
    '%s: every expression evaluates to its label, within its lengths, depth and arity',
    (_, grammar, count) => {
      const examples = generateListOps(count, grammar, 3, 0);
      expect(examples).toHaveLength(count);
      expect(new Set(examples.map((e) => e.source)).size).toBe(count);
      for (const e of examples) {
        const tokens = listOpsTokens(e.source);
        expect(evaluateTokens(tokens)).toBe(e.label);
        expect(tokens.length).toBeGreaterThan(grammar.minLength);
        expect(tokens.length).toBeLessThan(grammar.maxLength);
        // Operators sit at depths 1 … maxDepth − 1; digits at most at maxDepth.
        let depth = 0;
        let deepest = 0;
        for (const t of tokens) {
          if (t.startsWith('[')) deepest = Math.max(deepest, ++depth);
          else if (t === 'X') depth--;
        }
        expect(deepest).toBeLessThanOrEqual(grammar.maxDepth - 1);
        expect(LISTOPS_OPERATORS).toContain(tokens[0]);
      }
      const labels = new Set(examples.map((e) => e.label));
      expect(labels.size).toBeGreaterThan(count > 100 ? 8 : 3);
    },
  );

  it('gives every operator 2 … maxArgs arguments and uses all four operators', () => {
    const grammar = { maxDepth: 4, maxArgs: 5, minLength: 10, maxLength: 200 };
    const random = generatorFor(11, 0, 0);
    const seen = new Set<string>();
    const arities = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const { tree, length } = generateTree(random, grammar);
      expect(listOpsTokens(listOpsSource(tree))).toHaveLength(length);
      expect(depthOf(tree)).toBeLessThanOrEqual(grammar.maxDepth - 1);
      for (const node of operatorNodes(tree)) {
        seen.add(node.op);
        arities.add(node.args.length);
      }
    }
    expect([...seen].sort()).toEqual([...LISTOPS_OPERATORS].sort());
    expect([...arities].sort()).toEqual([2, 3, 4, 5]);
  });

  it('is a pure function of (seed, stream)', () => {
    const g = { maxDepth: 3, maxArgs: 4, minLength: 8, maxLength: 60 };
    expect(generateListOps(50, g, 7, 0)).toEqual(generateListOps(50, g, 7, 0));
    expect(generateListOps(50, g, 7, 1)).not.toEqual(generateListOps(50, g, 7, 0));
  });

  it('fails naming the lengths when they cannot be met', () => {
    expect(() =>
      generateListOps(5, { maxDepth: 2, maxArgs: 3, minLength: 30, maxLength: 40 }, 0, 0),
    ).toThrow(/30 < length < 40; widen the lengths/);
  });
});

describe('ListOps tokens and released TSVs', () => {
  it('keeps the brackets: the official string with parentheses gives our tokens', () => {
    const tree: ListOpsTree = { op: '[MAX', args: [2, { op: '[SM', args: [4, 9, 1] }, 9] };
    const official = officialString(tree);
    expect(officialString({ op: '[MAX', args: [2, 9] })).toBe('( ( ( [MAX 2 ) 9 ) ] )');
    expect(listOpsTokens(official)).toEqual(['[MAX', '2', '[SM', '4', '9', '1', 'X', '9', 'X']);
    expect(listOpsTokens(official)).toEqual(listOpsTokens(listOpsSource(tree)));
    expect(evaluateTokens(listOpsTokens(official))).toBe(treeValue(tree));
    expect(Array.from(encodeListOps(official, 'x'))).toEqual(
      listOpsTokens(official).map((t) => LISTOPS_VOCABULARY.indexOf(t) + 1),
    );
  });

  it('reads the released format: header, tab, label', () => {
    const text = 'Source\tTarget\n( ( ( [MAX 2 ) 9 ) ] )\t9\r\n( ( ( [MIN 2 ) 9 ) ] )\t2\n';
    expect(parseListOpsTsv(text, 'basic_test.tsv')).toEqual([
      { source: '( ( ( [MAX 2 ) 9 ) ] )', label: 9 },
      { source: '( ( ( [MIN 2 ) 9 ) ] )', label: 2 },
    ]);
  });

  it.each([
    [
      'a missing header',
      '( [MAX 2 ] )\t2\n',
      /first line is .*expected the header "Source\\tTarget"/,
    ],
    [
      'a label out of 0–9',
      'Source\tTarget\n( [MAX 2 ] )\t12\n',
      /line 2 is not "expression<TAB>label 0–9"/,
    ],
    ['an extra column', 'Source\tTarget\n( [MAX 2 ] )\t2\t3\n', /line 2 is not/],
  ])('refuses %s, naming the file and line', (_, text, message) => {
    expect(() => parseListOpsTsv(text, 'f.tsv')).toThrow(message);
  });

  it('refuses a token outside the vocabulary, naming it', () => {
    expect(() => encodeListOps('( [MAX 2 [FIRST 3 ] ] )', 'f.tsv example 4')).toThrow(
      /f\.tsv example 4: token '\[FIRST' is not ListOps/,
    );
  });
});
