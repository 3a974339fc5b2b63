/*
 * `COPY … FROM STDIN` (text format) on one pg client, through pg-copy-streams. Used by the
 * batch import to fill its staging table, one chunk of lines per COPY.
 */
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CopyStreamQuery } from 'pg-copy-streams';

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeOf = (c: string): string => ESCAPES[c];

/**
 * One value in COPY's text format: `\N` for null; backslash, tab, LF and CR escaped (the only
 * characters the format gives a meaning to). Every other character, multi-byte or control, is
 * sent as it is (UTF-8). NUL cannot be sent at all: callers refuse it first (assertStorable,
 * and JSON.parse for the raw line, which never accepts a bare NUL).
 */
export function copyText(v: string | null): string {
  if (v === null) return '\\N';
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, escapeOf) : v;
}

/**
 * `COPY … FROM STDIN` of `data` (COPY text rows) on the client; resolves with the row count.
 * Queued like any query: it starts when the client is free, and statements queued after it
 * run after it. A server-side error (bad value) rejects it; the client is then ready for the
 * next statement (in a transaction, that is ROLLBACK).
 */
export function copyIn(client: PoolClient, sql: string, data: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const stream: CopyStreamQuery = client.query(copyFrom(sql));
    stream.on('finish', () => resolve(stream.rowCount));
    stream.on('error', reject);
    stream.end(data);
  });
}
