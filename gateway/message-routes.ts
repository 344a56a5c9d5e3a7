import type { Request, Response } from 'express';
import { ChatError } from '../actors/errors';
import { reservedMetadataProblem } from '../actors/reserved-metadata';
import { metadataSizeProblem } from './metadata-size';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';
import { contentProblem } from './content-validation';
import { idParam, intQuery, userOf, validated } from './http-request-input';
import { rateKeyOf, spendOrRefuse } from './rate-limiter';
import { storableValueProblem } from '../storage-providers/record-rules';

/** Largest page of GET .../messages. */
export const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;

/** Handlers of a conversation's messages: read history pages, post, redact, edit. */
export interface MessageHandlers {
  readonly history: RouteHandler;
  readonly post: RouteHandler;
  readonly redact: RouteHandler;
  readonly edit: RouteHandler;
}

/** Resolves once the microtasks queued so far have run (process.nextTick queued from a promise callback). */
function endOfTurn(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

/** Message handlers (GET/POST /chat/conversations/:id/messages, POST .../redact, POST .../edit). */
export function createMessageHandlers(deps: ChatRouteDeps): MessageHandlers {
  const { runtime, config, bodies } = deps;

  const history = async (req: Request, res: Response): Promise<void> => {
    if (req.query['before'] !== undefined) return historyBefore(req, res);
    const id = idParam(req);
    const after = intQuery(req, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intQuery(req, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const { messages, droppedUpTo, nextAfter } = await runtime.readHistoryPage(id, after, limit, userOf(res).userId);
    // has_more is exact: the page's end is compared with the conversation's end, not guessed from the page size.
    // nextAfter moves past dropped ids and a hole at the journal's end: a reader paging on it would ask for them again.
    const last = (await runtime.getConversation(id)).last_sequence_id;
    // Only when ids were dropped, so readers can tell a trimmed history (or a hole) from a page that simply starts later.
    const dropped = droppedUpTo > after ? { dropped: { from: after + 1, to: droppedUpTo } } : {};
    res.json({ conversation_id: id, messages, next_after: nextAfter, has_more: nextAfter < last, last_sequence_id: last, ...dropped });
  };

  /** `?before=<seq>`: the page just before an id, oldest first (runtime.readHistoryPageBefore). */
  const historyBefore = async (req: Request, res: Response): Promise<void> => {
    const id = idParam(req);
    if (req.query['after'] !== undefined)
      throw new ChatError('GATEWAY_ERR_BAD_REQUEST', 'before and after exclude each other: page one way');
    const before = intQuery(req, 'before', 1, 1, Number.MAX_SAFE_INTEGER);
    const limit = intQuery(req, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const page = await runtime.readHistoryPageBefore(id, before, limit, userOf(res).userId);
    res.json({
      conversation_id: id,
      messages: page.messages,
      next_before: page.nextBefore,
      has_more: page.hasMore,
      last_sequence_id: page.lastSequenceId,
      ...(page.dropped ? { dropped: page.dropped } : {}),
    });
  };

  const post = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    const body = validated(bodies.post, req.body ?? {});
    const problem = contentProblem(body.content, config.chat.limits.max_message_length);
    if (problem) throw new ChatError('GATEWAY_ERR_CONTENT_INVALID', problem);
    // Refused before the rate limit, like content: metadata keys reserved for agent answers (reserved-metadata.ts).
    const reserved =
      reservedMetadataProblem(body.metadata) ??
      storableValueProblem(body.message_id, 'message_id') ??
      storableValueProblem(body.metadata, 'metadata') ??
      metadataSizeProblem(body.metadata, config.chat.limits.max_metadata_bytes);
    if (reserved) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', reserved);
    // The same bucket as the participant's WebSocket posts: switching transport does not reset the budget.
    spendOrRefuse(deps.rateLimiter, rateKeyOf(id, user.userId), deps.telemetry);
    const result = await runtime.post(id, {
      sender_id: user.userId,
      message_id: body.message_id,
      content: body.content,
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
    });
    // Answer at the end of the turn, as the WebSocket ack does (delivery-progress.ts): a journal that keeps up
    // (memory, SQLite) has the record by then, and HTTP has no second answer to say so later.
    await endOfTurn();
    res
      .status(201)
      .json({ message_id: result.message_id, sequence_id: result.sequence_id, persisted: result.persisted, duplicate: result.duplicate });
  };

  const redact = async (req: Request, res: Response): Promise<void> => {
    const body = validated(bodies.redact, req.body ?? {});
    const target = body.message_ids !== undefined ? { messageIds: body.message_ids } : { senderId: body.sender_id ?? '' };
    const user = userOf(res);
    // A delete by message ids (a member's of its own messages, or the owner's) is a change like a post: it spends the
    // message budget. A redaction of a whole sender is the owner's alone and spends none.
    if (body.message_ids !== undefined) spendOrRefuse(deps.rateLimiter, rateKeyOf(idParam(req), user.userId), deps.telemetry);
    const { redacted, alreadyRedacted, changed } = await runtime.redact(idParam(req), target, user.userId);
    // Redacting again answers 200 as an edit with the same content does: `changed: false`, the ids said to be redacted.
    res.json({
      conversation_id: idParam(req),
      redacted_sequence_ids: redacted,
      already_redacted_sequence_ids: alreadyRedacted,
      changed,
    });
  };

  const edit = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    const body = validated(bodies.edit, req.body ?? {});
    // Checked as a post's content is, with the same codes.
    const problem = contentProblem(body.content, config.chat.limits.max_message_length);
    if (problem) throw new ChatError('GATEWAY_ERR_CONTENT_INVALID', problem);
    const unstorable = storableValueProblem(body.message_id, 'message_id') ?? storableValueProblem(body.content, 'content');
    if (unstorable) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', unstorable);
    spendOrRefuse(deps.rateLimiter, rateKeyOf(id, user.userId), deps.telemetry);
    const { message, changed } = await runtime.edit(id, user.userId, body.message_id, body.content);
    res.json({ conversation_id: id, message, changed });
  };

  return { history, post, redact, edit };
}
