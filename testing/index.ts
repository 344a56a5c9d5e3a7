/** `nlweb-chat/testing`: what tests, benchmarks and embedders share. */
export { createNlwebStandinServer } from './nlweb-standin-server';
export type { NlwebStandinOptions, NlwebStandinServer, StandinBehaviour, StandinRequest, StandinStyle } from './nlweb-standin-server';
export { STANDIN_ITEMS, matchStandinItems, queryWords } from './standin-items';
export type { StandinItem } from './standin-items';
export { createManualClock, createSystemClock } from '../actors/clock';
export type { Clock, ManualClock } from '../actors/clock';
export { expectCode, runChatStoreContract } from './store-contract/chat-store.contract';
export type { ContractFactory, ContractOptions, ContractSubject } from './store-contract/chat-store.contract';
export { planChatStoreContract } from './store-contract/contract-plan';
export type { ContractCapability, OptionalGroupTitle, PlannedGroup } from './store-contract/contract-plan';
export type { ContractExpect, ContractMatchers, ContractRunner } from './store-contract/contract-runner';
