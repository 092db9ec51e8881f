/** One encoding config under test, as every conformance check sees it. */
import { parseConfig, type ConfigOf, type Schema } from '../../config/schema.js';
import type { ParameterScopes } from '../../encoding/parameter-scopes.js';
import type {
  AttentionKind,
  EncodingBuildSpec,
  PositionEncoding,
} from '../../encoding/position-encoding.js';
import {
  acceptedPositions,
  supportedAttention,
  type EncodingDefinition,
  type PositionSupport,
} from '../../encoding/registry.js';
import { CONFORMANCE_SCOPES, SIZES, type CallSettings } from './fixtures.js';

export interface ConformanceCase {
  /** Fields of the encoding's config; the definition's `name` is added. */
  readonly config: Record<string, unknown>;
  /** Whether attention is causal in the calls the checks make; default true. */
  readonly causal?: boolean;
}

/** An encoding config under test: the definition, the validated config and what it declares. */
export class Subject {
  readonly owner: string;
  readonly config: ConfigOf<Schema>;
  readonly supports: readonly AttentionKind[];
  readonly accepted: PositionSupport;
  readonly causal: boolean;

  constructor(
    readonly definition: EncodingDefinition,
    testCase: ConformanceCase,
  ) {
    this.owner = `encoding '${definition.name}'`;
    this.config = this.parse(testCase.config);
    this.supports = supportedAttention(definition, this.config);
    this.accepted = acceptedPositions(definition, this.config);
    this.causal = testCase.causal ?? true;
  }

  parse(config: Readonly<Record<string, unknown>>): ConfigOf<Schema> {
    return parseConfig(this.owner, this.definition.schema, { ...config }, ['name']);
  }

  create(): PositionEncoding {
    return this.definition.create(this.config);
  }

  spec(scopes: ParameterScopes = CONFORMANCE_SCOPES): EncodingBuildSpec {
    return { ...SIZES, scopes };
  }

  /** A built encoding for `f`, disposed afterwards. */
  withBuilt<T>(f: (encoding: PositionEncoding) => T): T {
    const encoding = this.create();
    try {
      encoding.build?.(this.spec());
      return f(encoding);
    } finally {
      encoding.dispose?.();
    }
  }

  settings(kind: AttentionKind, layer = 0): CallSettings {
    return { kind, causal: this.causal, layer };
  }

  fail(check: string, message: string): never {
    throw new Error(`${this.owner}: ${check}: ${message}`);
  }
}
