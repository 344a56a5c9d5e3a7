import type { StoreCapabilities } from '../../storage-providers/chat-store';

/** A capability some parts of the contract need (`supports.<flag>`). */
export type ContractCapability =
  | 'durable'
  | 'sharedAcrossProcesses'
  | 'sequenceReservation'
  | 'claims'
  | 'maxRecordsPerConversation'
  | 'maxRecordsTotal'
  | 'readPositions'
  | 'lowerReadPositions'
  | 'replaceContent';

/** The optional groups, in the order the suite registers them, and what each needs. */
export const OPTIONAL_GROUPS = [
  { title: 'durability', needs: 'durable' },
  { title: 'sequence reservation', needs: 'sequenceReservation' },
  { title: 'record bound', needs: 'maxRecordsPerConversation' },
  { title: 'total record bound', needs: 'maxRecordsTotal' },
  { title: 'conversation claims', needs: 'claims' },
  { title: 'read positions', needs: 'readPositions' },
  { title: 'content replacement', needs: 'replaceContent' },
] as const satisfies ReadonlyArray<{ title: string; needs: ContractCapability }>;

export type OptionalGroupTitle = (typeof OPTIONAL_GROUPS)[number]['title'];

/** One optional group of the contract for a given declaration. */
export interface PlannedGroup {
  readonly title: OptionalGroupTitle;
  readonly needs: ContractCapability;
  readonly runs: boolean;
  /** Why it does not run (absent when it runs). */
  readonly skipReason?: string;
}

/** Whether `supports` declares the capability (a record bound counts when above 0). */
export function declares(supports: StoreCapabilities, capability: ContractCapability): boolean {
  const value = supports[capability];
  return typeof value === 'number' ? value > 0 : value === true;
}

/** What a skipped group or test says about its skip. */
export function skipReason(capability: ContractCapability): string {
  return capability.startsWith('max') ? `supports.${capability} is 0 or absent` : `supports.${capability} is not true`;
}

/**
 * Which optional groups run for a store declaring `supports`, and why the others do not. The mandatory
 * groups (lifecycle, argument validation, capabilities, journal, conversations, record keeping, claims
 * without the capability) always run.
 */
export function planChatStoreContract(supports: StoreCapabilities): PlannedGroup[] {
  return OPTIONAL_GROUPS.map(({ title, needs }) =>
    declares(supports, needs) ? { title, needs, runs: true } : { title, needs, runs: false, skipReason: skipReason(needs) },
  );
}

/** The declaration compared field by field: absent flags read as false, absent bounds as 0. */
export function normaliseCapabilities(supports: StoreCapabilities): Required<StoreCapabilities> {
  return {
    durable: supports.durable === true,
    sharedAcrossProcesses: supports.sharedAcrossProcesses === true,
    sequenceReservation: supports.sequenceReservation === true,
    claims: supports.claims === true,
    maxRecordsPerConversation: supports.maxRecordsPerConversation ?? 0,
    maxRecordsTotal: supports.maxRecordsTotal ?? 0,
    readPositions: supports.readPositions === true,
    lowerReadPositions: supports.lowerReadPositions === true,
    replaceContent: supports.replaceContent === true,
  };
}

/** A store with no optional capability: what the suite assumes when it is told nothing. */
export const MINIMAL_CAPABILITIES: StoreCapabilities = Object.freeze({ durable: false, sharedAcrossProcesses: false });
