/**
 * ListOps (Nangia & Bowman 2018, as LRA generates it: `lra_benchmarks/data/listops.py`):
 * nested prefix expressions over the digits with MIN, MAX, MED (median, truncated toward zero as
 * `int(np.median)`) and SM (sum mod 10); the label is the value, 10 classes. The generator
 * follows the official grammar — a node is an operator with probability 0.25 below the maximum
 * depth, with 2 … maxArgs arguments, else a digit — and keeps expressions whose token count lies
 * strictly between the minimum and maximum lengths, without duplicates.
 *
 * Tokens are the official fixed pipeline's (after c209b2a): close brackets renamed to `X` and
 * split on whitespace, so brackets are kept — the bug of the SPE paper's runs, whose tokenizer
 * dropped them (long-range-arena#20), is not reproduced.
 */
import { generatorFor } from '@posenc/core';

export const LISTOPS_OPERATORS = ['[MIN', '[MAX', '[MED', '[SM'] as const;
export type ListOpsOperator = (typeof LISTOPS_OPERATORS)[number];

/** An expression: a digit, or an operator applied to its arguments. */
export type ListOpsTree =
  number | { readonly op: ListOpsOperator; readonly args: readonly ListOpsTree[] };

export interface ListOpsGrammar {
  readonly maxDepth: number;
  readonly maxArgs: number;
  /** Kept when minLength < tokens < maxLength (the official strict bounds). */
  readonly minLength: number;
  readonly maxLength: number;
}

/** The official settings: depth ≤ 10, 2–10 arguments, 500 < length < 2000. */
export const LISTOPS_OFFICIAL: ListOpsGrammar = {
  maxDepth: 10,
  maxArgs: 10,
  minLength: 500,
  maxLength: 2000,
};

const OPERATOR_PROBABILITY = 0.25;

/** The official `generate_tree(1, …)`: a tree and its token count (an operator node adds 2). */
export function generateTree(
  random: () => number,
  grammar: Pick<ListOpsGrammar, 'maxDepth' | 'maxArgs'>,
  depth = 1,
): { tree: ListOpsTree; length: number } {
  const r = depth < grammar.maxDepth ? random() : 1;
  if (r > OPERATOR_PROBABILITY) return { tree: Math.floor(random() * 10), length: 1 };
  const count = 2 + Math.floor(random() * (grammar.maxArgs - 1));
  const args: ListOpsTree[] = [];
  let length = 2;
  for (let i = 0; i < count; i++) {
    const child = generateTree(random, grammar, depth + 1);
    args.push(child.tree);
    length += child.length;
  }
  const op = LISTOPS_OPERATORS[Math.floor(random() * LISTOPS_OPERATORS.length)]!;
  return { tree: { op, args }, length };
}

/** The source text as the released TSVs hold it after the parentheses are removed: `[MAX 2 9 ]`. */
export function listOpsSource(tree: ListOpsTree): string {
  if (typeof tree === 'number') return String(tree);
  return `${tree.op} ${tree.args.map(listOpsSource).join(' ')} ]`;
}

export function depthOf(tree: ListOpsTree): number {
  return typeof tree === 'number' ? 0 : 1 + Math.max(...tree.args.map(depthOf));
}

/** The value of a tree (the generator's own semantics). */
export function treeValue(tree: ListOpsTree): number {
  if (typeof tree === 'number') return tree;
  const values = tree.args.map(treeValue);
  switch (tree.op) {
    case '[MIN':
      return Math.min(...values);
    case '[MAX':
      return Math.max(...values);
    case '[MED': {
      const s = [...values].sort((a, b) => a - b);
      const mid = s.length >> 1;
      return s.length % 2 ? s[mid]! : Math.trunc((s[mid - 1]! + s[mid]!) / 2);
    }
    case '[SM':
      return values.reduce((a, b) => a + b, 0) % 10;
  }
}

export interface ListOpsExample {
  readonly source: string;
  readonly label: number;
}

/** `count` distinct expressions within the grammar's lengths, from (seed, stream). */
export function generateListOps(
  count: number,
  grammar: ListOpsGrammar,
  seed: number,
  stream: number,
): ListOpsExample[] {
  const random = generatorFor(seed, 0, stream);
  const seen = new Set<string>();
  const out: ListOpsExample[] = [];
  let attempts = 0;
  while (out.length < count) {
    if (++attempts > count * 10000)
      throw new Error(
        `ListOps: ${attempts} draws gave only ${out.length} of ${count} expressions with ${grammar.minLength} < length < ${grammar.maxLength}; widen the lengths`,
      );
    const { tree, length } = generateTree(random, grammar);
    if (length <= grammar.minLength || length >= grammar.maxLength) continue;
    const source = listOpsSource(tree);
    if (seen.has(source)) continue;
    seen.add(source);
    out.push({ source, label: treeValue(tree) });
  }
  return out;
}

/** The fixed tokenizer: `]` → `X`, whitespace split. Vocabulary ids start after padding (0). */
export const LISTOPS_VOCABULARY = [
  ...LISTOPS_OPERATORS,
  'X',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
];

export function listOpsTokens(source: string): string[] {
  return source
    .replace(/\]/g, 'X')
    .replace(/[()]/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '');
}

/** Token ids (1 + vocabulary index; 0 is padding); an unknown token is an error naming it. */
export function encodeListOps(source: string, where: string): Int32Array {
  const tokens = listOpsTokens(source);
  return Int32Array.from(tokens, (t) => {
    const id = LISTOPS_VOCABULARY.indexOf(t);
    if (id < 0)
      throw new Error(
        `${where}: token '${t}' is not ListOps (expected ${LISTOPS_VOCABULARY.join(' ')})`,
      );
    return id + 1;
  });
}

/** The released `{basic_,}{train,val,test}.tsv`: a `Source\tTarget` header, then one example a line. */
export function parseListOpsTsv(text: string, file: string): ListOpsExample[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (header?.trim() !== 'Source\tTarget')
    throw new Error(
      `${file}: first line is ${JSON.stringify(header)}; expected the header "Source\\tTarget"`,
    );
  return lines.map((line, i) => {
    const [source, target, ...rest] = line.split('\t');
    const label = Number(target);
    if (
      rest.length > 0 ||
      source === undefined ||
      !Number.isInteger(label) ||
      label < 0 ||
      label > 9
    )
      throw new Error(
        `${file}: line ${i + 2} is not "expression<TAB>label 0–9": ${JSON.stringify(line.slice(0, 80))}`,
      );
    return { source, label };
  });
}
