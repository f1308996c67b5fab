// The snapshot is built in ./snapshot/, one file per concept; this module keeps the public
// names where template-clone and its callers have always imported them from.
export { takeSnapshot } from './snapshot/take-snapshot.js';
export { templateFingerprint } from './snapshot/fingerprint.js';
export type { ObjectKind, SnapshotStatement, SqlChunk, TemplateSnapshot } from './snapshot/types.js';
