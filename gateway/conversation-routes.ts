import type { Request, Response } from 'express';
import { ChatError, isChatError } from '../actors/errors';
import { assertOneTypePerId } from '../actors/participant-identity';
import type { ChatRuntime, ConversationSummary, ParticipantInput } from '../actors/runtime-types';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';
import { DEFAULT_CONVERSATION_PAGE, MAX_CONVERSATION_PAGE, cursorQuery, encodeCursor, listEntry } from './conversation-list-view';
import { assertNoControlCharacters, idParam, intQuery, userOf, validated } from './http-request-input';
import { spendOrRefuse } from './rate-limiter';
import type { CreateConversationBody } from './http-schemas';
import { storableValueProblem } from '../storage-providers/record-rules';

/** Handlers of the conversation resources: create, list the caller's, read one. */
export interface ConversationHandlers {
  readonly create: RouteHandler;
  readonly list: RouteHandler;
  readonly get: RouteHandler;
}

/** Conversation handlers (POST /chat/conversations, GET /chat/conversations[/:id] and their NLWeb aliases). */
export function createConversationHandlers(deps: ChatRouteDeps): ConversationHandlers {
  const { runtime, config, bodies } = deps;

  const create = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    spendOrRefuse(deps.creationLimiter, user.userId, deps.telemetry, 'too many conversations created; retry later');
    const body = validated(bodies.create, req.body ?? {});
    // A title, display name or setting no store keeps as sent (record-rules.ts storableValueProblem): refused here, as a bad request,
    // rather than by PostgreSQL as a storage error (and kept as sent by the memory store).
    const unstorable = storableValueProblem(body, 'request body');
    if (unstorable) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', unstorable);
    assertNoControlCharacters(body.title, 'title');
    body.participants?.forEach((p, i) => {
      assertNoControlCharacters(p.display_name, `participants[${i}].display_name`);
      assertNoControlCharacters(p.name, `participants[${i}].name`);
    });
    // The creator is the owner; an id named as a human and as an AI participant (the creator or a human in
    // `participants` also in `agents`, ...) is refused; repeated ids of one type (also across `participants` and
    // `agents`) count once.
    const named: ParticipantInput[] = [
      { participant_id: user.userId, participant_type: 'human', display_name: user.displayName ?? user.userId, role: 'owner' },
      ...(body.participants ?? []).map(toParticipantInput),
      ...(body.agents ?? []).map((id): ParticipantInput => ({ participant_id: id, participant_type: 'ai', agent_id: id, role: 'member' })),
    ];
    assertOneTypePerId(named);
    const participants = firstOfEachId(named);
    const limit = config.chat.limits.max_participants;
    if (participants.length > limit) {
      // Not the code's "has reached" (a join's): this conversation does not exist yet, it asked for too many.
      throw new ChatError(
        'CHAT_ERR_PARTICIPANT_LIMIT',
        `${participants.length} participants (the creator included) exceed the limit of ${limit} (chat.limits.max_participants)`,
      );
    }
    const autoJoin = body.auto_join_agents ?? body.enable_ai;
    const summary = await runtime
      .createConversation({
        created_by: user.userId,
        participants,
        ...(body.conversation_id === undefined ? {} : { conversation_id: body.conversation_id }),
        ...(body.title === undefined ? {} : { title: body.title }),
        ...(body.settings === undefined ? {} : { settings: body.settings }),
        ...(autoJoin === undefined ? {} : { autoJoinAgents: autoJoin }),
      })
      .catch(asBadRequest);
    res
      .status(201)
      // baseUrl is where the /chat router is mounted: '/chat', or under the embedder's prefix ('/support/chat').
      .location(`${req.baseUrl}/conversations/${encodeURIComponent(summary.conversation_id)}`)
      .json(summary);
  };

  // Callers are humans (human-caller.ts): a caller whose id is also an agent's sees only the conversations it is a
  // human member of, as every route on one of the agent's conversations refuses it.
  // Pages by last activity (docs/http-api.md); the entries keep the meta fields the unpaged list had.
  const list = async (req: Request, res: Response): Promise<void> => {
    const limit = intQuery(req, 'limit', DEFAULT_CONVERSATION_PAGE, 1, MAX_CONVERSATION_PAGE);
    const after = cursorQuery(req);
    const page = await runtime.listConversationPage(userOf(res).userId, { participantType: 'human', limit, after });
    res.json({ conversations: page.entries.map(listEntry), next_cursor: page.next === undefined ? null : encodeCursor(page.next) });
  };

  const get = async (req: Request, res: Response): Promise<void> => {
    res.json(await memberView(runtime, idParam(req), userOf(res).userId));
  };

  return { create, list, get };
}

type BodyParticipant = NonNullable<CreateConversationBody['participants']>[number];

/** A `participants` entry of the create body (ours or NLWeb's `{user_id, name}`) as a member; an AI one names its agent. */
function toParticipantInput(p: BodyParticipant): ParticipantInput {
  const id = p.participant_id ?? p.user_id ?? '';
  const type = p.participant_type ?? 'human';
  const name = p.display_name ?? p.name;
  return {
    participant_id: id,
    participant_type: type,
    role: 'member',
    ...(name === undefined ? {} : { display_name: name }),
    ...(type === 'ai' ? { agent_id: p.agent_id ?? id } : {}),
  };
}

/** The first entry of each participant id, in order. */
function firstOfEachId(list: readonly ParticipantInput[]): ParticipantInput[] {
  const byId = new Map<string, ParticipantInput>();
  for (const p of list) if (!byId.has(p.participant_id)) byId.set(p.participant_id, p);
  return [...byId.values()];
}

/**
 * The runtime's CHAT_ERR_UNKNOWN_AGENT as the HTTP API's 400 GATEWAY_ERR_BAD_REQUEST (same message, naming the
 * agents): over HTTP an unknown agent is a bad request body like any other. HTTP has no external AI participants
 * (nobody could post as one), so every AI participant must name a configured agent.
 */
export function asBadRequest(err: unknown): never {
  if (isChatError(err, 'CHAT_ERR_UNKNOWN_AGENT')) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', err.message, { cause: err });
  throw err;
}

/** A conversation summary, only for its current participants, with the caller's read position and unread count. */
async function memberView(
  runtime: ChatRuntime,
  conversationId: string,
  userId: string,
): Promise<ConversationSummary & { readonly read_up_to: number; readonly unread_count: number }> {
  const summary = await runtime.getConversation(conversationId);
  if (!summary.participants.some((p) => p.participant_id === userId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
  const state = await runtime.readState(conversationId, userId);
  return { ...summary, read_up_to: state.readUpTo, unread_count: state.unreadCount };
}
