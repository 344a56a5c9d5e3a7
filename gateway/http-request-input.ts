import type { Request, Response } from 'express';
import Ajv, { type ValidateFunction } from 'ajv';
import { ChatError } from '../actors/errors';
import { hasForbiddenControl } from '../actors/input-rules';
import type { AuthenticatedUser } from './authenticators';
import { integerRange, plainIntegerIn } from './query-integers';
import {
  ADD_PARTICIPANT_SCHEMA,
  CREATE_CONVERSATION_SCHEMA,
  EDIT_MESSAGE_SCHEMA,
  POST_MESSAGE_SCHEMA,
  REDACT_SCHEMA,
  MARK_READ_SCHEMA,
  NO_FIELDS_SCHEMA,
  type MarkReadBody,
  type NoFieldsBody,
  type AddParticipantBody,
  type CreateConversationBody,
  type EditMessageBody,
  type PostMessageBody,
  type RedactBody,
} from './http-schemas';

/** The compiled validators of the JSON request bodies (http-schemas.ts). */
export interface BodyValidators {
  readonly create: ValidateFunction<CreateConversationBody>;
  readonly post: ValidateFunction<PostMessageBody>;
  readonly redact: ValidateFunction<RedactBody>;
  readonly edit: ValidateFunction<EditMessageBody>;
  readonly markRead: ValidateFunction<MarkReadBody>;
  readonly addParticipant: ValidateFunction<AddParticipantBody>;
  /** POST …/join and …/leave: no fields. */
  readonly noFields: ValidateFunction<NoFieldsBody>;
}

/** Compiles the body schemas once per app. */
export function createBodyValidators(): BodyValidators {
  // strictRequired off: anyOf/oneOf branches name properties declared by the parent schema.
  const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });
  return {
    create: ajv.compile<CreateConversationBody>(CREATE_CONVERSATION_SCHEMA),
    post: ajv.compile<PostMessageBody>(POST_MESSAGE_SCHEMA),
    redact: ajv.compile<RedactBody>(REDACT_SCHEMA),
    edit: ajv.compile<EditMessageBody>(EDIT_MESSAGE_SCHEMA),
    markRead: ajv.compile<MarkReadBody>(MARK_READ_SCHEMA),
    addParticipant: ajv.compile<AddParticipantBody>(ADD_PARTICIPANT_SCHEMA),
    noFields: ajv.compile<NoFieldsBody>(NO_FIELDS_SCHEMA),
  };
}

/** The body when valid; otherwise GATEWAY_ERR_BAD_REQUEST naming the first problem in field terms. */
export function validated<T>(validate: ValidateFunction<T>, body: unknown): T {
  if (validate(body)) return body;
  // A body that must name exactly one of some fields (redact: message_ids or sender_id) and names none or both: ajv's
  // first error would be "missing field" for one of them, or "must match exactly one schema in oneOf".
  const choice = oneOfFields(validate);
  if (choice && validate.errors?.some((x) => x.keyword === 'oneOf' && x.instancePath === '')) {
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `body needs exactly one of ${choice.map((f) => `"${f}"`).join(', ')}`);
  }
  const e = validate.errors?.[0];
  const at = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'body';
  const detail =
    e?.keyword === 'additionalProperties'
      ? `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`
      : e?.keyword === 'required'
        ? `missing field "${String((e.params as { missingProperty: string }).missingProperty)}"`
        : `${at} ${e?.message ?? 'is invalid'}`;
  throw new ChatError('GATEWAY_ERR_BAD_REQUEST', detail);
}

/**
 * Refuses a title or display name with a control character the content rule refuses (anything but \t, \n and \r:
 * actors/input-rules.ts), as message content is: "a\u0007b" was stored as a title and shown to every member.
 */
export function assertNoControlCharacters(value: string | undefined, name: string): void {
  if (value !== undefined && hasForbiddenControl(value))
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} contains control characters (only \\n, \\r and \\t are allowed)`);
}

/** The fields of a schema's top-level oneOf whose branches each require one field, or undefined. */
function oneOfFields(validate: ValidateFunction): string[] | undefined {
  const branches = (validate.schema as { oneOf?: Array<{ required?: string[] }> }).oneOf;
  if (!branches?.every((b) => b.required?.length === 1)) return undefined;
  return branches.map((b) => b.required![0]);
}

/** The caller, set by the /chat authentication middleware before any route runs. */
export function userOf(res: Response): AuthenticatedUser {
  return res.locals.user as AuthenticatedUser;
}

/** The `:id` route parameter: a conversation id of 1–128 characters. */
export function idParam(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 128)
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', 'invalid conversation id');
  return id;
}

/**
 * An optional decimal query parameter within [min, max] (`def` when absent), written as query-integers.ts says. An
 * empty one (`?limit=`) is refused, naming it: it used to fall back to the default quietly.
 */
export function intQuery(req: Request, name: string, def: number, min: number, max: number): number {
  const raw = (req.query as Record<string, unknown>)[name];
  if (raw === undefined) return def;
  // ?after=1&after=2 arrives as an array: say so rather than that it is not an integer.
  if (Array.isArray(raw)) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} is given more than once`);
  if (raw === '') throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} is empty: give ${integerRange(min, max)} or leave it out`);
  // One message for every way to miss the range (limit=abc, limit=0, limit=-1, limit=501, limit=01): what would be accepted.
  const n = typeof raw === 'string' ? plainIntegerIn(raw, min, max) : undefined;
  if (n === undefined) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} must be ${integerRange(min, max)}`);
  return n;
}
