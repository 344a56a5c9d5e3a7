import { createChatRuntime } from '../../actors/create-chat-runtime';
import type { Agent } from '../../actors/agents/agent';
import type { ConversationOutput } from '../../actors/runtime-types';
import { MemoryStore } from '../../storage-providers/memory-store';

/**
 * An embedder's own logger (docs/embedding.md): the runtime writes `(fields, message)` at info, warn and error, so
 * any logger with those three takes its lines, not only a pino instance (winston, bunyan, a console adapter).
 */
describe('createChatRuntime with a logger that is not pino', () => {
  test('the runtime’s warn lines reach it, fields and message as written; an agent’s own error with its stack', async () => {
    const lines: Array<{ level: string; fields: unknown; message: string | undefined }> = [];
    const record =
      (level: string) =>
      (fields: unknown, message?: string): void =>
        void lines.push({ level, fields, message });
    // Deliberately only the three methods: nothing pino-specific (child, level, bindings ...).
    const logger = { info: record('info'), warn: record('warn'), error: record('error') };
    const failing: Agent = {
      id: 'failing',
      displayName: 'Failing',
      async *respond() {
        throw new Error('backend unreachable');
      },
    };
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' } },
      storage: new MemoryStore(),
      agents: [failing],
      logger,
    });
    try {
      const c = await runtime.createConversation({
        created_by: 'alice',
        participants: [{ participant_id: 'failing', participant_type: 'ai' }],
      });
      const failed = new Promise<void>((resolve) => {
        void runtime.subscribe(c.conversation_id, 'alice', (o: ConversationOutput) => {
          if (o.type === 'message' && o.message.message_type === 'agent_job_failed') resolve();
        });
      });
      await runtime.post(c.conversation_id, { sender_id: 'alice', message_id: 'm1', content: 'hi' });
      await failed;
      expect(lines).toContainEqual({
        level: 'warn',
        fields: expect.objectContaining({ agent_id: 'failing', code: 'AGENT_ERR_FAILED', reason: 'backend unreachable' }),
        message: 'agent call failed',
      });
      // An in-process agent's own error comes with the line, so its author finds where it threw (its stack);
      // an NLWeb agent's coded failures (ChatError: connection, HTTP status ...) say it all in code and reason.
      const line = lines.find((l) => l.message === 'agent call failed')!.fields as { err?: Error };
      expect(line.err).toBeInstanceOf(Error);
      expect(line.err!.stack).toContain('backend unreachable');
      expect(line.err!.stack).toMatch(/embedder-logger\.test\.ts/);
    } finally {
      await runtime.close();
    }
  });
});
