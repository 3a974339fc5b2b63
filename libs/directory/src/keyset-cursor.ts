/** Moved to @app/shared's pagination, next to decodeCursor; re-exported for existing imports. */
export { decodeTimeIdCursor } from '@app/shared';
