/**
 * Model hyper-parameters: one schema per model, defaults written once. The schema validates
 * user input (CLI `--param name=value`, JSON config, library calls), gives `--help` its text, and
 * produces the typed params object stored in the manifest. A wrong type is an error naming the
 * parameter, never a silent default.
 */
import { RecsysError } from '../errors.js';

export type ParamSpec =
  | { type: 'number'; default: number; min?: number; max?: number; description: string }
  | { type: 'int'; default: number; min?: number; max?: number; description: string }
  | { type: 'boolean'; default: boolean; description: string }
  | { type: 'enum'; default: string; values: readonly string[]; description: string };

export type ParamSchema = Record<string, ParamSpec>;

type ValueOf<S extends ParamSpec> = S extends { type: 'boolean' } ? boolean : S extends { type: 'enum' } ? S['values'][number] : number;

export type ParamsOf<S extends ParamSchema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Validate and complete params against a schema. Strings (from the CLI) are converted. */
export function resolveParams<S extends ParamSchema>(model: string, schema: S, given: Record<string, unknown>): ParamsOf<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!(key in schema)) {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `model '${model}' has no parameter '${key}'. Its parameters: ${Object.keys(schema).join(', ')}.`, { flag: '--param', param: key });
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const raw = given[key];
    if (raw === undefined || raw === null) {
      out[key] = spec.default;
      continue;
    }
    out[key] = convert(model, key, spec, raw);
  }
  return out as ParamsOf<S>;
}

function convert(model: string, key: string, spec: ParamSpec, raw: unknown): unknown {
  const bad = (why: string): never => {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `model '${model}' parameter '${key}': ${why} (got ${JSON.stringify(raw)}). ${spec.description}.`, { flag: '--param', param: key });
  };
  switch (spec.type) {
    case 'number':
    case 'int': {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(v)) return bad('expected a number');
      if (spec.type === 'int' && !Number.isInteger(v)) return bad('expected an integer');
      if (spec.min !== undefined && v < spec.min) return bad(`must be ≥ ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) return bad(`must be ≤ ${spec.max}`);
      return v;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return bad('expected true or false');
    }
    case 'enum': {
      if (typeof raw === 'string' && spec.values.includes(raw)) return raw;
      return bad(`expected one of ${spec.values.join(', ')}`);
    }
  }
}

/** Parse `a=1,b=x` (or repeated `--param a=1`) into a raw params object. */
export function parseParamList(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    for (const part of item.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) {
        throw new RecsysError('RECSYS_ERR_USAGE', `--param expects name=value pairs, got '${part}'. Example: --param factors=64,alpha=1`, { flag: '--param' });
      }
      out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
  }
  return out;
}

/** Human-readable lines for --help. */
export function describeParams(schema: ParamSchema): string[] {
  return Object.entries(schema).map(([k, s]) => {
    const range = 'values' in s ? ` (${s.values.join('|')})` : '';
    return `${k}=${String(s.default)}${range}  ${s.description}`;
  });
}
