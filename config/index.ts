export { loadConfig, resolveConfig, validateConfig, type ConfigProblem, type LoadConfigOptions } from './load-config';
export { CONFIG_SCHEMA, ENV_OVERRIDES } from './config-schema';
export type * from './config-types';
