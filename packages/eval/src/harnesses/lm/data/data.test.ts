/** Token arrays and evaluation segments (training windows are core's `randomWindows`). */
import { initEngine } from '@posenc/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalSegments, segmentContexts } from './eval-segments.js';
import { allocateTokens, TokenArrayBuilder } from './token-array.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

describe('token arrays', () => {
  it('use the narrowest integer type the vocabulary fits', () => {
    expect(allocateTokens(256, 1)).toBeInstanceOf(Uint8Array);
    expect(allocateTokens(257, 1)).toBeInstanceOf(Uint16Array);
    expect(allocateTokens(65536, 1)).toBeInstanceOf(Uint16Array);
    expect(allocateTokens(65537, 1)).toBeInstanceOf(Int32Array);
  });

  it('grow as ids are pushed and refuse ids outside the vocabulary', () => {
    const builder = new TokenArrayBuilder(300);
    const ids = Array.from({ length: 5000 }, (_, i) => i % 300);
    builder.push(ids.slice(0, 1234));
    builder.push(ids.slice(1234));
    expect(Array.from(builder.build())).toEqual(ids);
    expect(() => builder.push([300])).toThrow(/token id 300 is outside the vocabulary of 300 ids/);
    expect(() => builder.push([-1])).toThrow(/-1/);
  });
});

describe('evaluation segments', () => {
  const stream = Uint8Array.from({ length: 10_001 }, (_, i) => i % 251);

  it('are equal spans of 2× the longest length, apart, spread over the stream', () => {
    const segments = evalSegments(stream, { maxTokens: 1000, longestLength: 64 });
    expect(segments.length).toBe(Math.round(1000 / 128));
    const starts = segments.map((s) => s.byteOffset);
    segments.forEach((s) => expect(s.length).toBe(129));
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(129);
    expect(starts[0]).toBeLessThan(stream.length / segments.length);
    expect(starts.at(-1)! + 129).toBeGreaterThan(stream.length - stream.length / segments.length);
  });

  it('each come with the tokens just before them in the stream, for a cache', () => {
    const options = { maxTokens: 1000, longestLength: 64 };
    const segments = evalSegments(stream, options);
    const contexts = segmentContexts(stream, { ...options, length: 64 });
    expect(contexts).toHaveLength(segments.length);
    contexts.forEach((c, i) => {
      expect(c.byteOffset + c.length).toBe(segments[i]!.byteOffset);
      expect(c.length).toBe(Math.min(64, segments[i]!.byteOffset));
    });
    expect(segmentContexts(stream, { maxTokens: 'all', longestLength: 64, length: 64 })).toEqual([
      stream.subarray(0, 0),
    ]);
  });

  it("are the whole stream with 'all' or a budget past its size", () => {
    expect(evalSegments(stream, { maxTokens: 'all', longestLength: 64 })).toEqual([stream]);
    expect(evalSegments(stream, { maxTokens: 20_000, longestLength: 64 })).toEqual([stream]);
  });

  it('never exceed what the stream holds', () => {
    const short = stream.subarray(0, 300);
    const segments = evalSegments(short, { maxTokens: 280, longestLength: 100 });
    expect(segments.length).toBe(1);
    expect(() => evalSegments(short, { maxTokens: 100, longestLength: 500 })).toThrow(
      /fewer than the longest evaluation length 500/,
    );
  });
});
