/**
 * The replay CLI's machine re-run (bin/replay/machine-rerun.ts) on a journal with members added by another member
 * and removed by the owner: the re-run passes `added_by` / `removed_by` on, so it reproduces such a journal and
 * checks who made each change as the server did (a removal by a member who is not the owner, which no server
 * writes, diverges; re-run as a plain leave it passed).
 */
import { createChatRuntime, type ChatMessage } from '../../actors';
import { createMachineRerun } from '../../bin/replay/machine-rerun';
import { loadConfig } from '../../config';
import { MemoryStore } from '../../storage-providers';

test('a journal recorded by the runtime with adds and removals re-runs with no divergence; a removal by a non-owner diverges', async () => {
  const config = loadConfig({ overrides: { observability: { log_level: 'silent' } } });
  const store = new MemoryStore();
  await store.open();
  const runtime = await createChatRuntime({ config, storage: store });
  try {
    const human = (id: string) => ({ participant_id: id, participant_type: 'human' as const });
    const { conversation_id: conv } = await runtime.createConversation({
      created_by: 'alice',
      participants: [human('bob')],
      autoJoinAgents: false,
    });
    await runtime.join(conv, human('carol'), { addedBy: 'bob' });
    await runtime.post(conv, { sender_id: 'carol', message_id: 'c1', content: 'hi' });
    await runtime.leave(conv, 'bob', { removedBy: 'alice' });
    await runtime.leave(conv, 'carol');
    const page = await runtime.readHistoryPage(conv, 0, 100);
    const records: ChatMessage[] = [...page.messages];
    expect(records.filter((m) => m.metadata.added_by === 'bob').map((m) => m.sender_id)).toEqual(['carol']);
    expect(records.filter((m) => m.metadata.removed_by === 'alice').map((m) => m.sender_id)).toEqual(['bob']);

    const rerunOf = (journal: readonly ChatMessage[]) => {
      const rerun = createMachineRerun({ conversationId: conv });
      return { divergences: [...journal.flatMap((r) => rerun.accept(r)), ...rerun.finish()], compared: rerun.compared };
    };
    expect(rerunOf(records)).toEqual({ divergences: [], compared: records.length });

    // The same journal with bob's removal made by carol, a member but not the owner.
    const forged = records.map((m) => (m.metadata.removed_by === 'alice' ? { ...m, metadata: { ...m.metadata, removed_by: 'carol' } } : m));
    const removal = forged.find((m) => m.metadata.removed_by === 'carol')!;
    const { divergences } = rerunOf(forged);
    expect(divergences.length).toBeGreaterThan(0);
    expect(divergences[0].sequence_id).toBe(removal.sequence_id);
  } finally {
    await runtime.close({ deadlineMs: 2000 });
    await store.close();
  }
});
