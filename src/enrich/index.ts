// The IP enrichment API: open an Enricher from the config, look addresses up, format them.

export { ATTRIBUTION, CACHE_SAVE_INTERVAL_MS, Enricher, formatOrigin, offlineOrigins, type EnrichConfig, type EnricherOptions, type Origin } from './enricher.js';
export { SPECIAL_TEXT, specialLabel, type SpecialLabel } from './special.js';
export type { ProviderName } from './provider.js';
