import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { CLIENT_FRAME_SCHEMAS, type ClientFrame } from './client-frames';
import { SERVER_FRAME_SCHEMAS, type ServerFrame } from './server-frames';

export type ValidationResult<T> = { ok: true; frame: T } | { ok: false; message: string };

/** Compiled validators for both directions (compile once per gateway, reuse for every frame). */
export interface FrameValidator {
  client(value: unknown): ValidationResult<ClientFrame>;
  server(value: unknown): ValidationResult<ServerFrame>;
}

/** Compiles every frame schema with ajv; frames are dispatched on `type` to the one schema for it. */
export function createFrameValidator(): FrameValidator {
  const ajv = new Ajv({ allErrors: false, strict: true });
  const client = compileAll(ajv, CLIENT_FRAME_SCHEMAS);
  const server = compileAll(ajv, SERVER_FRAME_SCHEMAS);
  return {
    client: (value) => check<ClientFrame>(client, value),
    server: (value) => check<ServerFrame>(server, value),
  };
}

function compileAll<K extends string>(ajv: Ajv, schemas: Readonly<Record<K, Record<string, unknown>>>): Map<string, ValidateFunction> {
  const out = new Map<string, ValidateFunction>();
  for (const [type, schema] of Object.entries(schemas) as [K, Record<string, unknown>][]) out.set(type, ajv.compile(schema));
  return out;
}

function check<T>(validators: Map<string, ValidateFunction>, value: unknown): ValidationResult<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'frame must be a JSON object' };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, message: 'frame needs a string "type"' };
  const validate = validators.get(type);
  if (!validate) return { ok: false, message: `unknown frame type "${type.slice(0, 40)}"` };
  if (validate(value)) return { ok: true, frame: value as T };
  return { ok: false, message: `${type} frame: ${describe(validate.errors?.[0])}` };
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid';
  if (error.keyword === 'additionalProperties') {
    return `unknown field "${String((error.params as { additionalProperty: string }).additionalProperty)}"`;
  }
  if (error.keyword === 'required') return `missing field "${String((error.params as { missingProperty: string }).missingProperty)}"`;
  const at = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : 'frame';
  return `${at} ${error.message ?? error.keyword}`;
}
